// Real servers on 127.0.0.1:0 behind freezable proxies, a real BatchStream:
// order, exactly-once, failover on kill and freeze, ranks, epochs, resume.
#include "client/batch_stream.h"

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <set>
#include <thread>

#include "server/batch_builder.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/test_cluster.h"
#include "tripletstream/v1/tripletstream.grpc.pb.h"

namespace tripletstream {
namespace {

using ::testing::HasSubstr;

constexpr uint64_t kSeed = 21;
constexpr int64_t kEpoch = 2;

class BatchStreamTest : public ::testing::Test {
 protected:
  void SetUp() override { StartCluster(testing::SmallPreparedDataset()); }

  void StartCluster(std::shared_ptr<const PreparedDataset> dataset) {
    cluster_.reset();
    dataset_ = std::move(dataset);
    auto cluster = testing::TestCluster::Start(3, dataset_);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *std::move(cluster);
  }

  BatchStreamOptions Options(int batch_size) const {
    BatchStreamOptions o;
    o.servers = cluster_->Addresses();
    o.request.set_mode(v1::SAMPLING_MODE_TRIPLET);
    o.request.set_batch_size(batch_size);
    o.request.set_seed(kSeed);
    o.start_epoch = kEpoch;
    o.epochs = 1;
    o.prefetch_per_shard = 2;
    o.client.give_up_after_s = 10;
    return o;
  }

  // Digests of one uninterrupted epoch, built in process.
  std::vector<uint64_t> Reference(int batch_size, int64_t epoch = kEpoch) const {
    SamplingConfig sampling;
    sampling.batch_size = batch_size;
    BatchBuilder builder(*dataset_, sampling, AugmentConfig(), kSeed, epoch);
    std::vector<uint64_t> digests;
    for (int64_t i = 0; i < builder.batches_per_epoch(); ++i) {
      v1::Batch batch;
      builder.Build(i, &batch);
      digests.push_back(batch.digest());
    }
    return digests;
  }

  // Reads to the end; the batches' (index, digest) in order of arrival.
  static std::vector<std::pair<int64_t, uint64_t>> Drain(BatchStream& stream,
                                                        absl::Status* end) {
    std::vector<std::pair<int64_t, uint64_t>> out;
    for (;;) {
      auto batch = stream.Next();
      if (!batch.ok()) {
        *end = batch.status();
        return out;
      }
      out.push_back({(*batch)->index(), (*batch)->digest()});
    }
  }

  // Reads to the end, checking that indices come in order; calls `disturb`
  // once `disturb_at` batches have arrived. The digests in order.
  static std::vector<uint64_t> ReadDisturbed(BatchStream& stream, size_t disturb_at,
                                             const std::function<void()>& disturb) {
    std::vector<uint64_t> digests;
    for (;;) {
      if (digests.size() == disturb_at) disturb();
      auto batch = stream.Next();
      if (!batch.ok()) {
        EXPECT_EQ(batch.status().code(), absl::StatusCode::kOutOfRange) << batch.status();
        return digests;
      }
      EXPECT_EQ((*batch)->index(), static_cast<int64_t>(digests.size()));
      digests.push_back((*batch)->digest());
    }
  }

  static std::vector<uint64_t> Digests(const std::vector<std::pair<int64_t, uint64_t>>& got) {
    std::vector<uint64_t> out;
    for (const auto& [index, digest] : got) out.push_back(digest);
    return out;
  }

  // A dataset whose shards far exceed socket and HTTP/2 buffers, so a
  // server cannot hand its whole shard over before it dies or freezes.
  static std::shared_ptr<const PreparedDataset> BigDataset() {
    testing::SyntheticSpec spec;
    spec.users = 6;
    spec.sessions_per_user = 3;
    spec.rows_per_session = 6100;
    spec.channels = 12;
    PreprocessConfig prep;
    prep.window_length = 128;
    prep.window_stride = 16;
    prep.split.test_user_regex = "user_5";
    prep.split.holdout_session_regex = "session_2";
    return testing::PrepareSynthetic(spec, prep);
  }

  std::shared_ptr<const PreparedDataset> dataset_;
  std::unique_ptr<testing::TestCluster> cluster_;
};

TEST_F(BatchStreamTest, ThreeServersDeliverTheEpochInOrderExactlyOnce) {
  auto stream = BatchStream::Open(Options(4));
  ASSERT_TRUE(stream.ok()) << stream.status();
  absl::Status end;
  auto got = Drain(**stream, &end);
  EXPECT_EQ(end.code(), absl::StatusCode::kOutOfRange) << end;
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].first, static_cast<int64_t>(i));
  EXPECT_EQ(Digests(got), Reference(4));
  const BatchStreamStats stats = (*stream)->stats();
  EXPECT_EQ(stats.servers, cluster_->Addresses());
  EXPECT_EQ(stats.batches_per_server, (std::vector<int64_t>{15, 14, 14}));
  EXPECT_EQ(stats.reconnects, 0);
  EXPECT_EQ(stats.epochs_completed, 1);
}

TEST_F(BatchStreamTest, KilledServersBatchesAreServedByTheOthers) {
  StartCluster(BigDataset());
  const std::vector<uint64_t> reference = Reference(32);
  auto stream = BatchStream::Open(Options(32));
  ASSERT_TRUE(stream.ok()) << stream.status();
  EXPECT_EQ(ReadDisturbed(**stream, 2, [&] { cluster_->Kill(1); }), reference);
  const BatchStreamStats stats = (*stream)->stats();
  EXPECT_GE(stats.reconnects, 1);
  EXPECT_LT(stats.batches_per_server[1], static_cast<int64_t>(reference.size()) / 3);
}

TEST_F(BatchStreamTest, FrozenServerIsFailedOverAfterTheStallTimeout) {
  StartCluster(BigDataset());
  const std::vector<uint64_t> reference = Reference(32);
  BatchStreamOptions options = Options(32);
  options.client.stall_timeout_s = 1;
  auto stream = BatchStream::Open(options);
  ASSERT_TRUE(stream.ok()) << stream.status();
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(ReadDisturbed(**stream, 3, [&] { cluster_->Freeze(2); }), reference);
  const BatchStreamStats stats = (*stream)->stats();
  EXPECT_GE(stats.stalls, 1);
  EXPECT_GE(stats.reconnects, stats.stalls);
  // Liveness bound, not a timing assertion: without the deadline this
  // would wait for the thaw below, forever.
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(120));
  cluster_->Thaw(2);
  options.servers = {cluster_->Address(2)};
  auto after = BatchStream::Open(options);  // The thawed server serves again.
  ASSERT_TRUE(after.ok());
  auto first = (*after)->Next();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ((*first)->digest(), reference[0]);
}

TEST_F(BatchStreamTest, RanksSplitTheEpochAndTogetherReadItOnce) {
  const std::vector<uint64_t> reference = Reference(4);
  std::set<int64_t> seen;
  for (int rank = 0; rank < 3; ++rank) {
    BatchStreamOptions options = Options(4);
    options.rank = rank;
    options.world_size = 3;
    options.servers = {cluster_->Address(0), cluster_->Address(1)};
    auto stream = BatchStream::Open(options);
    ASSERT_TRUE(stream.ok()) << stream.status();
    absl::Status end;
    for (const auto& [index, digest] : Drain(**stream, &end)) {
      EXPECT_EQ(index % 3, rank);
      EXPECT_EQ(digest, reference[index]);
      EXPECT_TRUE(seen.insert(index).second) << "index " << index << " twice";
    }
    EXPECT_EQ(end.code(), absl::StatusCode::kOutOfRange) << end;
  }
  EXPECT_EQ(seen.size(), reference.size());
}

TEST_F(BatchStreamTest, RollsOverEpochsAndReresolvesNamesAtEachBoundary) {
  BatchStreamOptions options = Options(4);
  options.epochs = 3;
  options.servers = {"dns:///data:1"};
  int resolutions = 0;
  options.resolve = [&](const std::vector<std::string>& names)
      -> absl::StatusOr<std::vector<std::string>> {
    EXPECT_EQ(names, std::vector<std::string>{"dns:///data:1"});
    // One server, then all three from the second epoch on.
    return ++resolutions == 1 ? std::vector<std::string>{cluster_->Address(0)}
                              : cluster_->Addresses();
  };
  auto stream = BatchStream::Open(options);
  ASSERT_TRUE(stream.ok()) << stream.status();
  absl::Status end;
  auto got = Drain(**stream, &end);
  EXPECT_EQ(end.code(), absl::StatusCode::kOutOfRange);
  std::vector<uint64_t> expected;
  for (int64_t e = kEpoch; e < kEpoch + 3; ++e) {
    auto epoch = Reference(4, e);
    expected.insert(expected.end(), epoch.begin(), epoch.end());
  }
  EXPECT_EQ(Digests(got), expected);
  EXPECT_EQ(resolutions, 3);  // At Open and at the two boundaries in between.
  const BatchStreamStats stats = (*stream)->stats();
  EXPECT_EQ(stats.epochs_completed, 3);
  EXPECT_EQ(stats.servers, cluster_->Addresses());
  EXPECT_EQ(stats.batches_per_server[0], 43 + 15 + 15);
  EXPECT_EQ((*stream)->position().epoch, kEpoch + 3);
}

// When a whole epoch has arrived ahead of the consumer, the next Next()
// opens the next epoch's streams, so the servers build it while the buffered
// tail is consumed; the batches are still every one once, in order.
TEST_F(BatchStreamTest, OpensTheNextEpochWhileTheLastOneIsStillBuffered) {
  BatchStreamOptions options = Options(4);
  options.servers = {cluster_->Address(0)};
  options.epochs = 2;
  options.prefetch_per_shard = 64;  // The whole epoch (43 batches) fits.
  const ServerStats& server = cluster_->server(0).stats();
  const int64_t before = server.streams_started.load();
  auto stream = BatchStream::Open(options);
  ASSERT_TRUE(stream.ok()) << stream.status();
  // A liveness bound, not a timing check: the epoch arrives without reads.
  bool received = false;
  for (int i = 0; i < 1000 && !received; ++i) {
    received = (*stream)->CurrentEpochReceived();
    if (!received) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(received);
  EXPECT_EQ(server.streams_started.load(), before + 1);
  std::vector<std::pair<int64_t, uint64_t>> got;
  auto first = (*stream)->Next();
  ASSERT_TRUE(first.ok()) << first.status();
  got.push_back({(*first)->index(), (*first)->digest()});
  // Opened with 42 batches of epoch kEpoch still to be handed out (the
  // server sees the call a moment later; no more reads meanwhile).
  EXPECT_EQ((*stream)->stats().epochs_opened_ahead, 1);
  for (int i = 0; i < 1000 && server.streams_started.load() < before + 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(server.streams_started.load(), before + 2);
  EXPECT_EQ((*stream)->position().epoch, kEpoch);
  absl::Status end;
  auto rest = Drain(**stream, &end);
  EXPECT_EQ(end.code(), absl::StatusCode::kOutOfRange);
  got.insert(got.end(), rest.begin(), rest.end());
  std::vector<uint64_t> expected = Reference(4, kEpoch);
  auto second = Reference(4, kEpoch + 1);
  expected.insert(expected.end(), second.begin(), second.end());
  EXPECT_EQ(Digests(got), expected);
  EXPECT_EQ((*stream)->stats().epochs_opened_ahead, 1);
  // No third epoch was opened: epochs = 2.
  EXPECT_EQ(server.streams_started.load(), before + 2);
}

// With resolve_interval_s, servers that appear or go away behind a name
// are taken in within the epoch, from the next batch index: the epoch is
// still every batch once, in order.
TEST_F(BatchStreamTest, ServersThatJoinOrLeaveMidEpochAreTakenInExactlyOnce) {
  BatchStreamOptions options = Options(4);
  options.servers = {"dns:///data:1"};
  options.resolve_interval_s = 1e-9;  // Look before every batch.
  int resolutions = 0;
  options.resolve = [&](const std::vector<std::string>&)
      -> absl::StatusOr<std::vector<std::string>> {
    ++resolutions;
    // Server 0 alone, then all three (the autoscaler added two), then 1 and
    // 2 (server 0 scaled away), then a failed lookup (keep what we have).
    if (resolutions <= 5) return std::vector<std::string>{cluster_->Address(0)};
    if (resolutions <= 20) return cluster_->Addresses();
    if (resolutions <= 30) {
      return std::vector<std::string>{cluster_->Address(1), cluster_->Address(2)};
    }
    return absl::UnavailableError("resolver down");
  };
  auto stream = BatchStream::Open(options);
  ASSERT_TRUE(stream.ok()) << stream.status();
  std::vector<uint64_t> digests = ReadDisturbed(**stream, SIZE_MAX, [] {});
  EXPECT_EQ(digests, Reference(4));
  const BatchStreamStats stats = (*stream)->stats();
  EXPECT_EQ(stats.rebalances, 2);
  ASSERT_EQ(stats.servers.size(), 3u);
  for (int64_t n : stats.batches_per_server) EXPECT_GT(n, 0);
  EXPECT_GT(resolutions, 30);
}

TEST_F(BatchStreamTest, ResumingAtAPositionGivesTheRestOfTheStream) {
  BatchStreamOptions options = Options(4);
  options.epochs = 2;
  auto whole = BatchStream::Open(options);
  ASSERT_TRUE(whole.ok());
  absl::Status end;
  const auto all = Drain(**whole, &end);
  auto first = BatchStream::Open(options);
  ASSERT_TRUE(first.ok());
  std::vector<uint64_t> joined;
  for (int i = 0; i < 50; ++i) joined.push_back((*(*first)->Next())->digest());
  const StreamPosition at = (*first)->position();
  first->reset();
  options.start_epoch = at.epoch;
  options.start_index = at.next_index;
  options.epochs = kEpoch + 2 - at.epoch;
  auto rest = BatchStream::Open(options);
  ASSERT_TRUE(rest.ok());
  auto tail = Drain(**rest, &end);
  for (const auto& [index, digest] : tail) joined.push_back(digest);
  EXPECT_EQ(joined, Digests(all));
}

TEST_F(BatchStreamTest, CancelWakesABlockedNext) {
  cluster_->Freeze(0);
  cluster_->Freeze(1);
  cluster_->Freeze(2);
  auto stream = BatchStream::Open(Options(4));  // No stall timeout would fire soon.
  ASSERT_TRUE(stream.ok());
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    (*stream)->Cancel();
  });
  auto batch = (*stream)->Next();
  canceller.join();
  ASSERT_FALSE(batch.ok());
  EXPECT_EQ(batch.status().code(), absl::StatusCode::kCancelled);
}

TEST_F(BatchStreamTest, PermanentServerErrorsSurface) {
  auto stream = BatchStream::Open(Options(0));  // Invalid batch size.
  ASSERT_TRUE(stream.ok());
  auto batch = (*stream)->Next();
  ASSERT_FALSE(batch.ok());
  EXPECT_EQ(batch.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(batch.status().message(), HasSubstr("batch_size"));
}

TEST_F(BatchStreamTest, GivesUpWhenNoServerAnswers) {
  for (int i = 0; i < 3; ++i) cluster_->Kill(i);
  BatchStreamOptions options = Options(4);
  options.client.give_up_after_s = 0.3;
  options.client.max_backoff_s = 0.1;
  auto stream = BatchStream::Open(options);
  ASSERT_TRUE(stream.ok());
  auto batch = (*stream)->Next();
  ASSERT_FALSE(batch.ok());
  EXPECT_EQ(batch.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(batch.status().message(), HasSubstr("no server delivered"));
}

// Serves one batch whose payload does not match its digest.
class CorruptService final : public v1::TripletStream::Service {
  grpc::Status StreamTriplets(grpc::ServerContext*, const v1::StreamTripletsRequest* request,
                              grpc::ServerWriter<v1::Batch>* writer) override {
    ++calls;
    v1::Batch batch;
    batch.set_epoch(request->epoch());
    batch.set_index(request->start_index());
    batch.set_batches_per_epoch(1);
    batch.set_mode(v1::SAMPLING_MODE_TRIPLET);
    for (int64_t d : {3, 1, 2, 1}) batch.add_shape(d);
    batch.set_data(std::string(24, '\0'));
    for (int label : {0, 0, 1}) batch.add_labels(label);
    batch.set_digest(12345);
    writer->Write(batch);
    return grpc::Status::OK;
  }

 public:
  std::atomic<int> calls{0};
};

TEST_F(BatchStreamTest, CorruptedBatchesAreAskedAgainThenFailAsDataLoss) {
  CorruptService service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  BatchStreamOptions options = Options(1);
  options.servers = {"127.0.0.1:" + std::to_string(port)};
  auto stream = BatchStream::Open(options);
  ASSERT_TRUE(stream.ok());
  auto batch = (*stream)->Next();
  ASSERT_FALSE(batch.ok());
  EXPECT_EQ(batch.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(batch.status().message(), HasSubstr("wrong digest"));
  EXPECT_EQ(service.calls.load(), 3);  // Asked again twice, then given up.
  server->Shutdown();
}

TEST_F(BatchStreamTest, CancelRightAfterOpenIsSafe) {
  // Shard threads may not have attached their calls yet (use-after-free
  // before: a refused Attach kept the context it was given).
  for (int i = 0; i < 20; ++i) {
    auto stream = BatchStream::Open(Options(4));
    ASSERT_TRUE(stream.ok());
    (*stream)->Cancel();
    EXPECT_EQ((*stream)->Next().status().code(), absl::StatusCode::kCancelled);
  }
}

TEST_F(BatchStreamTest, BadOptionsAreRefused) {
  BatchStreamOptions options = Options(4);
  options.rank = 2;
  options.world_size = 2;
  EXPECT_EQ(BatchStream::Open(options).status().code(), absl::StatusCode::kInvalidArgument);
  options = Options(4);
  options.servers.clear();
  EXPECT_EQ(BatchStream::Open(options).status().code(), absl::StatusCode::kInvalidArgument);
  options = Options(4);
  options.prefetch_per_shard = 0;
  EXPECT_EQ(BatchStream::Open(options).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tripletstream
