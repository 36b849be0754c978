#include "trainer/distributed.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/csrc/distributed/c10d/HashStore.hpp>

#include <chrono>
#include <cmath>
#include <functional>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "trainer/train_step.h"

namespace tripletstream {
namespace {

using ::testing::HasSubstr;

constexpr int kT = 16, kC = 3;

// A batch of `b` random triplets (from LibTorch's seeded generator).
v1::Batch TripletBatch(int b) {
  v1::Batch batch;
  batch.set_mode(v1::SAMPLING_MODE_TRIPLET);
  for (int64_t d : {3, b, kT, kC}) batch.add_shape(d);
  torch::Tensor values = torch::randn({3, b, kT, kC}, torch::kFloat32);
  batch.mutable_data()->assign(static_cast<const char*>(values.data_ptr()),
                               values.numel() * sizeof(float));
  for (int i = 0; i < 3 * b; ++i) batch.add_labels(i < 2 * b ? 0 : 1);
  return batch;
}

// Triplets [from, from + n) of `batch` as a batch of their own.
v1::Batch Slice(const v1::Batch& batch, int from, int n) {
  const int b = static_cast<int>(batch.shape(1));
  torch::Tensor all = torch::from_blob(const_cast<char*>(batch.data().data()), {3, b, kT, kC},
                                       torch::kFloat32);
  torch::Tensor part = all.narrow(1, from, n).contiguous();
  v1::Batch out;
  out.set_mode(v1::SAMPLING_MODE_TRIPLET);
  for (int64_t d : {3, n, kT, kC}) out.add_shape(d);
  out.mutable_data()->assign(static_cast<const char*>(part.data_ptr()),
                             part.numel() * sizeof(float));
  for (int i = 0; i < 3 * n; ++i) out.add_labels(i < 2 * n ? 0 : 1);
  return out;
}

TrainConfig SmallConfig() {
  TrainConfig config;
  config.model.in_channels = kC;
  config.model.channels = 8;
  config.model.levels = 2;
  config.model.embedding = 8;
  config.model.dropout = 0;
  config.margin = 0.5;
  config.clip_norm = 5;
  return config;
}

struct Replica {
  Tcn model{nullptr};
  std::unique_ptr<torch::optim::AdamW> optimizer;
};

Replica MakeReplica(const TrainConfig& config, uint64_t seed) {
  torch::manual_seed(seed);
  Replica r;
  r.model = Tcn(config.model);
  r.optimizer = std::make_unique<torch::optim::AdamW>(r.model->parameters(),
                                                      torch::optim::AdamWOptions(1e-2));
  return r;
}

// Runs `body(rank, group)` on `world` threads joined through one HashStore.
void RunRanks(int world, double timeout_s,
              const std::function<void(int, ProcessGroup&)>& body) {
  auto store = c10::make_intrusive<c10d::HashStore>();
  std::vector<std::thread> threads;
  for (int rank = 0; rank < world; ++rank) {
    threads.emplace_back([&, rank] {
      auto group = ProcessGroup::JoinWithStore(nullptr, store.get(), rank, world, timeout_s,
                                                /*loopback=*/true);
      ASSERT_TRUE(group.ok()) << group.status();
      body(rank, **group);
    });
  }
  for (auto& t : threads) t.join();
}

float MaxDifference(Tcn& a, Tcn& b) {
  float worst = 0;
  auto pa = a->parameters(), pb = b->parameters();
  for (size_t i = 0; i < pa.size(); ++i) {
    worst = std::max(worst, (pa[i] - pb[i]).abs().max().item<float>());
  }
  return worst;
}

// The data-parallel contract: W ranks with B/W triplets each take the same
// steps as one rank with all B. Tolerance: the two sum the same products in
// a different order (float32, rounding ~1e-7 relative per addition), and 20
// AdamW steps at lr 1e-2 move each weight by at most ~0.2; 1e-4 absolute
// is far below any real divergence (a wrong average is off by ~1e-2 at once).
TEST(GradientReducerTest, TwoRanksWithHalfBatchesStepLikeOneRankWithTheWholeBatch) {
  const TrainConfig config = SmallConfig();
  constexpr int kSteps = 20, kB = 8;
  torch::manual_seed(11);
  std::vector<v1::Batch> batches;
  for (int s = 0; s < kSteps; ++s) batches.push_back(TripletBatch(kB));

  Replica single = MakeReplica(config, 5);
  for (int s = 0; s < kSteps; ++s) {
    v1::Batch batch = batches[s];
    auto outcome = TrainStep(config, s, 1e-2, batch, single.model, *single.optimizer, torch::kCPU);
    ASSERT_TRUE(outcome.ok()) << outcome.status();
  }

  // Made before the threads: LibTorch's global generator is not thread safe.
  std::vector<Replica> ranks;
  for (int rank = 0; rank < 2; ++rank) ranks.push_back(MakeReplica(config, 5));
  std::vector<double> last_loss(2);
  RunRanks(2, 60, [&](int rank, ProcessGroup& group) {
    Replica& r = ranks[rank];
    GradientReducer reducer(&group, r.model->parameters(), /*bucket_bytes=*/512);
    EXPECT_GT(reducer.buckets(), 1);  // Several buckets: the ordering is exercised.
    for (int s = 0; s < kSteps; ++s) {
      v1::Batch half = Slice(batches[s], rank * kB / 2, kB / 2);
      auto outcome = DistributedTrainStep(config, s, 1e-2, &half, r.model, *r.optimizer,
                                          torch::kCPU, reducer, 0);
      ASSERT_TRUE(outcome.ok()) << outcome.status();
      last_loss[rank] = outcome->loss;
    }
  });
  const float difference = MaxDifference(ranks[0].model, single.model);
  RecordProperty("max_abs_difference", absl::StrCat(difference));
  EXPECT_LT(difference, 1e-4f);
  EXPECT_EQ(MaxDifference(ranks[0].model, ranks[1].model), 0.0f);  // Identical steps.
  EXPECT_EQ(last_loss[0], last_loss[1]);
}

// Unequal shares (the last batch of an epoch is smaller, and a rank may have
// none at the last step) are weighted by their anchors.
TEST(GradientReducerTest, UnequalAndEmptySharesAreWeightedByAnchors) {
  const TrainConfig config = SmallConfig();
  torch::manual_seed(12);
  v1::Batch whole = TripletBatch(6);
  Replica single = MakeReplica(config, 7);
  ASSERT_TRUE(TrainStep(config, 0, 1e-2, whole, single.model, *single.optimizer, torch::kCPU).ok());

  std::vector<Replica> ranks;
  for (int rank = 0; rank < 3; ++rank) ranks.push_back(MakeReplica(config, 7));
  RunRanks(3, 60, [&](int rank, ProcessGroup& group) {
    Replica& r = ranks[rank];
    GradientReducer reducer(&group, r.model->parameters());
    // Rank 0: 4 triplets, rank 1: 2, rank 2: none.
    v1::Batch share = rank == 0 ? Slice(whole, 0, 4) : Slice(whole, 4, 2);
    auto outcome = DistributedTrainStep(config, 0, 1e-2, rank == 2 ? nullptr : &share, r.model,
                                        *r.optimizer, torch::kCPU, reducer, 0);
    ASSERT_TRUE(outcome.ok()) << outcome.status();
  });
  EXPECT_LT(MaxDifference(ranks[0].model, single.model), 1e-5f);
  EXPECT_EQ(MaxDifference(ranks[0].model, ranks[2].model), 0.0f);
}

TEST(GradientReducerTest, AStopVoteOnOneRankReachesEveryRank) {
  const TrainConfig config = SmallConfig();
  torch::manual_seed(13);
  v1::Batch batch = TripletBatch(2);
  std::vector<double> votes(2, -1);
  std::vector<Replica> ranks;
  for (int rank = 0; rank < 2; ++rank) ranks.push_back(MakeReplica(config, 1));
  RunRanks(2, 60, [&](int rank, ProcessGroup& group) {
    Replica& r = ranks[rank];
    GradientReducer reducer(&group, r.model->parameters());
    v1::Batch mine = batch;
    auto outcome = DistributedTrainStep(config, 0, 1e-2, &mine, r.model, *r.optimizer,
                                        torch::kCPU, reducer, rank == 1 ? 1.0 : 0.0);
    ASSERT_TRUE(outcome.ok()) << outcome.status();
    votes[rank] = outcome->stop_votes;
  });
  EXPECT_EQ(votes[0], 1.0);
  EXPECT_EQ(votes[1], 1.0);
}

TEST(GradientReducerTest, ANonFiniteLossOnOneRankFailsEveryRank) {
  TrainConfig config = SmallConfig();
  torch::manual_seed(14);
  v1::Batch good = TripletBatch(2);
  v1::Batch bad = good;
  std::vector<float> nan(good.data().size() / sizeof(float),
                         std::numeric_limits<float>::quiet_NaN());
  bad.mutable_data()->assign(reinterpret_cast<const char*>(nan.data()), good.data().size());
  std::vector<absl::Status> results(2);
  std::vector<Replica> ranks;
  for (int rank = 0; rank < 2; ++rank) ranks.push_back(MakeReplica(config, 1));
  RunRanks(2, 60, [&](int rank, ProcessGroup& group) {
    Replica& r = ranks[rank];
    GradientReducer reducer(&group, r.model->parameters());
    v1::Batch mine = rank == 1 ? bad : good;
    results[rank] = DistributedTrainStep(config, 0, 1e-2, &mine, r.model, *r.optimizer,
                                         torch::kCPU, reducer, 0)
                        .status();
  });
  for (const absl::Status& s : results) {
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    EXPECT_THAT(s.message(), HasSubstr("over all ranks"));
  }
}

TEST(ProcessGroupTest, BroadcastsTensorsAndBytesFromRankZero) {
  std::vector<std::string> received(3);
  std::vector<float> values(3);
  RunRanks(3, 60, [&](int rank, ProcessGroup& group) {
    std::string bytes = rank == 0 ? std::string("checkpoint\0bytes", 16) : "";
    ASSERT_TRUE(group.BroadcastBytes(&bytes).ok());
    received[rank] = bytes;
    torch::Tensor t = torch::full({4}, static_cast<float>(rank + 1));
    ASSERT_TRUE(group.Broadcast({t}).ok());
    values[rank] = t.sum().item<float>();
    ASSERT_TRUE(group.Barrier().ok());
  });
  for (int r = 0; r < 3; ++r) {
    EXPECT_EQ(received[r], std::string("checkpoint\0bytes", 16));
    EXPECT_EQ(values[r], 4.0f);
  }
}

// A rank that stops answering (frozen, or gone without closing its socket)
// fails the others' collective after the timeout instead of hanging.
TEST(ProcessGroupTest, ASilentRankFailsTheCollectiveAfterTheTimeout) {
  absl::Status rank0;
  std::atomic<bool> done{false};
  RunRanks(2, 2, [&](int rank, ProcessGroup& group) {
    if (rank == 1) {
      // Joined, then silent until rank 0 has given up.
      while (!done.load()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      return;
    }
    torch::Tensor t = torch::ones({8});
    rank0 = group.AllReduceSum(t);
    done = true;
  });
  EXPECT_FALSE(rank0.ok());
  EXPECT_TRUE(absl::IsDeadlineExceeded(rank0) || absl::IsUnavailable(rank0)) << rank0;
  EXPECT_THAT(rank0.message(), HasSubstr("another trainer rank"));
}

TEST(ProcessGroupTest, AnUnreachableStoreIsAClearError) {
  DistributedConfig config;
  config.rank = 1;
  config.world_size = 2;
  config.master_addr = "127.0.0.1";
  config.master_port = 9;  // discard: nothing listens there.
  config.timeout_s = 1;
  auto group = ProcessGroup::Join(config);
  ASSERT_FALSE(group.ok());
  EXPECT_EQ(group.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(group.status().message(), HasSubstr("cannot reach the rendezvous store at 127.0.0.1:9"));
}

}  // namespace
}  // namespace tripletstream
