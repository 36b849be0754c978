#include "probe/stream_probe.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/digest.h"
#include "server/batch_builder.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/test_cluster.h"

namespace tripletstream {
namespace {

class StreamProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dataset_ = testing::SmallPreparedDataset();
    auto cluster = testing::TestCluster::Start(2, dataset_);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *std::move(cluster);
  }

  ProbeConfig Config() const {
    ProbeConfig config;
    config.stream.servers = cluster_->Addresses();
    config.stream.request.set_mode(v1::SAMPLING_MODE_TRIPLET);
    config.stream.request.set_batch_size(4);
    config.stream.request.set_seed(5);
    config.stream.epochs = 1;
    return config;
  }

  // The chained digest of batches [first, end) of `epoch`, built in process.
  uint64_t ChainedDigest(int64_t epoch, int64_t first, int64_t end) const {
    SamplingConfig sampling;
    sampling.batch_size = 4;
    BatchBuilder builder(*dataset_, sampling, AugmentConfig(), 5, epoch);
    uint64_t chained = 0;
    for (int64_t i = first; i < std::min(end, builder.batches_per_epoch()); ++i) {
      v1::Batch batch;
      builder.Build(i, &batch);
      chained = CombineDigest(chained, batch.digest());
    }
    return chained;
  }

  std::shared_ptr<const PreparedDataset> dataset_;
  std::unique_ptr<testing::TestCluster> cluster_;
};

TEST_F(StreamProbeTest, CountsAndDigestsTheWholeEpoch) {
  auto result = RunProbe(Config());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->batches, 43);
  EXPECT_EQ(result->triplets, 170);
  EXPECT_EQ(result->payload_bytes, 170 * 3 * 32 * 3 * 4);
  EXPECT_EQ(result->stream_digest, ChainedDigest(0, 0, 43));
  EXPECT_EQ(result->stats.batches_per_server, (std::vector<int64_t>{22, 21}));
}

TEST_F(StreamProbeTest, AWindowOfTheEpochHasItsOwnDigest) {
  ProbeConfig config = Config();
  config.stream.start_index = 10;
  config.stream.end_index = 20;
  auto result = RunProbe(config);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->batches, 10);
  EXPECT_EQ(result->stream_digest, ChainedDigest(0, 10, 20));
}

TEST_F(StreamProbeTest, AWindowPastTheEpochIsOutOfRange) {
  ProbeConfig config = Config();
  config.stream.start_index = 40;
  config.stream.end_index = 50;
  auto result = RunProbe(config);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(result.status().message(), ::testing::HasSubstr("ended after 3"));
}

TEST_F(StreamProbeTest, SeveralEpochsChainTheirDigests) {
  ProbeConfig config = Config();
  config.stream.epochs = 2;
  auto result = RunProbe(config);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->batches, 86);
  const uint64_t expected =
      CombineDigest(CombineDigest(0, ChainedDigest(0, 0, 43)), ChainedDigest(1, 0, 43));
  EXPECT_EQ(result->stream_digest, expected);
}

}  // namespace
}  // namespace tripletstream
