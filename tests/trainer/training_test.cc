// Training against real in-process servers on 127.0.0.1:0.
#include "trainer/training.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/data_server.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/temp_dir.h"
#include "trainer/checkpoint.h"

namespace tripletstream {
namespace {

using ::testing::HasSubstr;

class TrainingTest : public ::testing::Test {
 protected:
  void SetUp() override { server_ = Start(testing::SmallPreparedDataset()); }

  static std::unique_ptr<DataServer> Start(std::shared_ptr<const PreparedDataset> dataset) {
    auto server = DataServer::Start(std::move(dataset), DataServiceConfig(), "127.0.0.1:0");
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? *std::move(server) : nullptr;
  }

  TrainConfig Config(const std::string& checkpoint_dir) const {
    TrainConfig c;
    c.servers = {"127.0.0.1:" + std::to_string(server_->port())};
    c.checkpoint_dir = checkpoint_dir;
    c.steps = 14;
    c.batch_size = 8;
    c.warmup_steps = 3;
    c.seed = 3;
    c.model.channels = 8;
    c.model.levels = 2;
    c.model.embedding = 8;
    c.model.dropout = 0.2;  // Exercises the RNG state in checkpoints.
    c.log_every = 0;
    c.checkpoint_every = 0;
    c.eval_at_end = false;
    return c;
  }

  static std::vector<torch::Tensor> Weights(const std::string& checkpoint,
                                            const TcnOptions& options) {
    Tcn model(options);
    EXPECT_TRUE(LoadCheckpoint(checkpoint, model, nullptr).ok());
    std::vector<torch::Tensor> out;
    for (const auto& p : model->parameters()) out.push_back(p.detach().clone());
    return out;
  }

  std::unique_ptr<DataServer> server_;
};

TEST_F(TrainingTest, ResumedRunSeesTheSameBatchesAndEndsWithTheSameWeights) {
  testing::TempDir dir;
  // 30 steps cross the epoch boundary (170 windows / 8 = 22 batches).
  TrainConfig straight = Config(dir.path() + "/straight");
  straight.steps = 30;
  auto a = Train(straight);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->steps, 30);
  ASSERT_EQ(a->batch_digests.size(), 30u);

  TrainConfig first = Config(dir.path() + "/resumed");
  first.steps = 30;
  first.max_steps_this_run = 5;
  auto b1 = Train(first);
  ASSERT_TRUE(b1.ok()) << b1.status();
  EXPECT_EQ(b1->steps, 5);
  TrainConfig second = Config(dir.path() + "/resumed");
  second.steps = 30;
  second.resume = true;
  auto b2 = Train(second);
  ASSERT_TRUE(b2.ok()) << b2.status();
  EXPECT_EQ(b2->steps, 30);

  std::vector<uint64_t> joined = b1->batch_digests;
  joined.insert(joined.end(), b2->batch_digests.begin(), b2->batch_digests.end());
  EXPECT_EQ(joined, a->batch_digests);

  TcnOptions options = straight.model;
  options.in_channels = 3;
  auto wa = Weights(a->checkpoint, options);
  auto wb = Weights(b2->checkpoint, options);
  ASSERT_EQ(wa.size(), wb.size());
  for (size_t i = 0; i < wa.size(); ++i) EXPECT_TRUE(torch::equal(wa[i], wb[i])) << i;
}

TEST_F(TrainingTest, ServersAddedToTheNameJoinAtTheNextEpoch) {
  // The name first resolves to one server, from the second epoch on to two
  // (an autoscaler added one): the second takes a share from epoch 1, and
  // the batches are those of an undisturbed one-server run.
  auto second = Start(testing::SmallPreparedDataset());
  ASSERT_NE(second, nullptr);
  const std::string a = "127.0.0.1:" + std::to_string(server_->port());
  const std::string b = "127.0.0.1:" + std::to_string(second->port());
  TrainConfig reference = Config("");
  reference.steps = 50;  // 22 batches an epoch: epochs 0, 1 and part of 2.
  auto alone = Train(reference);
  ASSERT_TRUE(alone.ok()) << alone.status();

  TrainConfig scaled = reference;
  scaled.servers = {"dns:///tripletstream-server:50051"};
  int resolutions = 0;
  TrainCollaborators with;
  with.resolve = [&](const std::vector<std::string>& names)
      -> absl::StatusOr<std::vector<std::string>> {
    EXPECT_EQ(names, scaled.servers);
    return ++resolutions == 1 ? std::vector<std::string>{a} : std::vector<std::string>{a, b};
  };
  auto run = Train(scaled, with);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(resolutions, 3);  // At start and at the two epoch boundaries.
  EXPECT_EQ(run->batch_digests, alone->batch_digests);
  ASSERT_EQ(run->servers, (std::vector<std::string>{a, b}));
  // Server a: all of epoch 0 and half of the next ones; b: the other half.
  EXPECT_GE(run->batches_per_server[0], 22 + 11);
  EXPECT_GE(run->batches_per_server[1], 11);
}

TEST_F(TrainingTest, CheckpointRoundTripKeepsMetaAndNormalization) {
  testing::TempDir dir;
  auto run = Train(Config(dir.path()));
  ASSERT_TRUE(run.ok()) << run.status();
  auto meta = ReadCheckpointMeta(run->checkpoint);
  ASSERT_TRUE(meta.ok()) << meta.status();
  EXPECT_EQ(meta->step, 14);
  EXPECT_EQ(meta->seed, 3u);
  EXPECT_EQ(meta->window_length, 32);
  EXPECT_EQ(meta->channel_names, (std::vector<std::string>{"c0", "c1", "c2"}));
  EXPECT_EQ(meta->fingerprint, FingerprintHex(server_->service().dataset().fingerprint));
  EXPECT_EQ(meta->norm_mean, server_->service().dataset().norm.mean);
  EXPECT_EQ(meta->norm_std, server_->service().dataset().norm.std);
  EXPECT_GT(meta->epoch * 22 + meta->next_index, 0);
}

TEST_F(TrainingTest, RefusesACheckpointOfAnotherDatasetOrModel) {
  testing::TempDir dir;
  TrainConfig config = Config(dir.path());
  config.max_steps_this_run = 2;
  ASSERT_TRUE(Train(config).ok());

  TrainConfig other_model = Config(dir.path());
  other_model.resume = true;
  other_model.model.channels = 16;
  auto refused = Train(other_model);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("has model"));

  testing::SyntheticSpec spec;
  spec.users = 4;
  spec.rows_per_session = 200;
  PreprocessConfig prep;
  prep.window_length = 32;
  prep.window_stride = 16;
  auto other_data = Start(std::shared_ptr<const PreparedDataset>(
      *PrepareDataset(testing::MakeSyntheticDataset(spec), prep)));
  TrainConfig other_dataset = Config(dir.path());
  other_dataset.resume = true;
  other_dataset.servers = {"127.0.0.1:" + std::to_string(other_data->port())};
  refused = Train(other_dataset);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("trained on dataset"));
}

TEST_F(TrainingTest, CudaWithoutADeviceIsAClearError) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "a CUDA device is present";
  TrainConfig config = Config("");
  config.device = "cuda";
  auto result = Train(config);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().message(), HasSubstr("--device=cuda"));
}

TEST_F(TrainingTest, LearnsEmbeddingsThatVerifyUsers) {
  TrainConfig config = Config("");
  config.steps = 150;
  config.eval_at_end = true;
  config.lr = 3e-3;
  config.model.dropout = 0;
  auto result = Train(config);
  ASSERT_TRUE(result.ok()) << result.status();
  // Cross-session (users 0-4, session_2 held out): the untrained model's EER
  // against the trained one's.
  ASSERT_GE(result->cross_eer_pct, 0);
  ASSERT_GE(result->initial_eer_pct, 0);
  EXPECT_LT(result->cross_eer_pct, result->initial_eer_pct - 10)
      << "initial " << result->initial_eer_pct << "% final " << result->cross_eer_pct << "%";
  EXPECT_LT(result->data_stall_pct, 100);
}

}  // namespace
}  // namespace tripletstream
