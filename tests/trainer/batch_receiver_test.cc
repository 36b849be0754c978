// Real servers on 127.0.0.1:0, a real receiver, one server killed mid-epoch.
#include "trainer/batch_receiver.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/batch_builder.h"
#include "server/data_server.h"
#include "tests/testing/fixtures.h"

namespace tripletstream {
namespace {

using ::testing::HasSubstr;

constexpr uint64_t kSeed = 21;
constexpr int64_t kEpoch = 2;

class BatchReceiverTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServers(testing::SmallPreparedDataset()); }

  void StartServers(std::shared_ptr<const PreparedDataset> dataset) {
    servers_.clear();
    dataset_ = std::move(dataset);
    ASSERT_NE(dataset_, nullptr);
    for (int i = 0; i < 3; ++i) {
      DataServiceConfig config;
      config.producer_threads = i + 1;
      auto server = DataServer::Start(dataset_, config, "127.0.0.1:0");
      ASSERT_TRUE(server.ok()) << server.status();
      servers_.push_back(*std::move(server));
    }
  }

  ReceiverConfig Config(int batch_size) const {
    ReceiverConfig config;
    for (const auto& server : servers_) {
      config.servers.push_back("127.0.0.1:" + std::to_string(server->port()));
    }
    config.request.set_mode(v1::SAMPLING_MODE_TRIPLET);
    config.request.set_batch_size(batch_size);
    config.request.set_seed(kSeed);
    config.prefetch_per_shard = 2;
    config.give_up_after_s = 10;
    return config;
  }

  // Digests of the uninterrupted epoch, built in process.
  std::vector<uint64_t> Reference(int batch_size) const {
    SamplingConfig sampling;
    sampling.batch_size = batch_size;
    BatchBuilder builder(*dataset_, sampling, AugmentConfig(), kSeed, kEpoch);
    std::vector<uint64_t> digests;
    for (int64_t i = 0; i < builder.batches_per_epoch(); ++i) {
      v1::Batch batch;
      builder.Build(i, &batch);
      digests.push_back(batch.digest());
    }
    return digests;
  }

  std::shared_ptr<const PreparedDataset> dataset_;
  std::vector<std::unique_ptr<DataServer>> servers_;
};

TEST_F(BatchReceiverTest, ThreeServersDeliverTheEpochInOrderExactlyOnce) {
  BatchReceiver receiver(Config(4));
  receiver.Start(kEpoch, 0);
  std::vector<uint64_t> digests;
  for (;;) {
    auto batch = receiver.Next();
    if (!batch.ok()) {
      EXPECT_EQ(batch.status().code(), absl::StatusCode::kOutOfRange) << batch.status();
      break;
    }
    EXPECT_EQ((*batch)->index(), static_cast<int64_t>(digests.size()));
    digests.push_back((*batch)->digest());
  }
  EXPECT_EQ(digests, Reference(4));
  ReceiverStats stats = receiver.stats();
  EXPECT_EQ(stats.batches_per_server, (std::vector<int64_t>{15, 14, 14}));
  EXPECT_EQ(stats.reconnects, 0);
}

TEST_F(BatchReceiverTest, KilledServersBatchesAreServedByTheOthers) {
  // Each shard must be far larger than what sockets and HTTP/2 windows can
  // buffer, or a server could hand its whole shard over before it dies:
  // 5 training users x 2 sessions x 374 windows x 18 KiB per triplet = 69 MB.
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
  auto big = PrepareDataset(testing::MakeSyntheticDataset(spec), prep);
  ASSERT_TRUE(big.ok()) << big.status();
  StartServers(std::shared_ptr<const PreparedDataset>(*std::move(big)));
  const std::vector<uint64_t> reference = Reference(32);
  BatchReceiver receiver(Config(32));
  receiver.Start(kEpoch, 0);
  std::vector<uint64_t> digests;
  for (;;) {
    if (digests.size() == 2) servers_[1]->Shutdown(absl::ZeroDuration());
    auto batch = receiver.Next();
    if (!batch.ok()) {
      EXPECT_EQ(batch.status().code(), absl::StatusCode::kOutOfRange) << batch.status();
      break;
    }
    ASSERT_EQ((*batch)->index(), static_cast<int64_t>(digests.size()));
    digests.push_back((*batch)->digest());
  }
  EXPECT_EQ(digests, reference);  // Every index once, same bytes.
  ReceiverStats stats = receiver.stats();
  EXPECT_GE(stats.reconnects, 1);
  const int64_t total = static_cast<int64_t>(reference.size());
  EXPECT_LT(stats.batches_per_server[1], total / 3);
  EXPECT_EQ(stats.batches_per_server[0] + stats.batches_per_server[1] +
                stats.batches_per_server[2],
            total);
}

TEST_F(BatchReceiverTest, ResumesFromAStartIndex) {
  BatchReceiver receiver(Config(4));
  receiver.Start(kEpoch, 17);
  std::vector<uint64_t> reference = Reference(4);
  int64_t expected = 17;
  for (;;) {
    auto batch = receiver.Next();
    if (!batch.ok()) break;
    ASSERT_EQ((*batch)->index(), expected);
    EXPECT_EQ((*batch)->digest(), reference[expected]);
    ++expected;
  }
  EXPECT_EQ(expected, static_cast<int64_t>(reference.size()));
}

TEST_F(BatchReceiverTest, PermanentServerErrorsSurface) {
  ReceiverConfig config = Config(0);  // Invalid batch size.
  BatchReceiver receiver(config);
  receiver.Start(kEpoch, 0);
  auto batch = receiver.Next();
  ASSERT_FALSE(batch.ok());
  EXPECT_EQ(batch.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(batch.status().message(), HasSubstr("batch_size"));
}

TEST_F(BatchReceiverTest, GivesUpWhenNoServerAnswers) {
  ReceiverConfig config = Config(4);
  for (auto& server : servers_) server->Shutdown(absl::ZeroDuration());
  config.give_up_after_s = 0.3;
  config.max_backoff_s = 0.1;
  BatchReceiver receiver(config);
  receiver.Start(kEpoch, 0);
  auto batch = receiver.Next();
  ASSERT_FALSE(batch.ok());
  EXPECT_EQ(batch.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(batch.status().message(), HasSubstr("no server delivered"));
}

}  // namespace
}  // namespace tripletstream
