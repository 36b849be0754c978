#include "server/data_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "tests/testing/fixtures.h"

namespace tripletstream {
namespace {

using ::testing::HasSubstr;

// Serialized batches of one stream, keyed by batch index.
std::map<int64_t, std::string> Collect(const DataService& service,
                                       const v1::StreamTripletsRequest& request) {
  auto pipeline = service.NewTripletPipeline(request, nullptr);
  EXPECT_TRUE(pipeline.ok()) << pipeline.status();
  std::map<int64_t, std::string> out;
  if (!pipeline.ok()) return out;
  (*pipeline)->Start();
  while (!(*pipeline)->Exhausted()) {
    EncodedBatch* batch = (*pipeline)->TryNext();
    if (batch == nullptr) {
      std::this_thread::yield();
      continue;
    }
    EXPECT_EQ(out.count(batch->index), 0u);
    out[batch->index] = batch->SerializeAsString();
    (*pipeline)->Release(batch);
  }
  return out;
}

v1::StreamTripletsRequest Request() {
  v1::StreamTripletsRequest request;
  request.set_split(v1::SPLIT_TRAIN);
  request.set_mode(v1::SAMPLING_MODE_TRIPLET);
  request.set_batch_size(8);
  request.set_seed(42);
  request.set_epoch(3);
  return request;
}

class DataServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dataset_ = testing::SmallPreparedDataset();
    ASSERT_NE(dataset_, nullptr);
  }
  DataService Service(int threads) {
    DataServiceConfig config;
    config.producer_threads = threads;
    config.augment.jitter_sigma = 0.02f;
    config.augment.max_shift = 3;
    return DataService(dataset_, config, &stats_);
  }
  std::shared_ptr<const PreparedDataset> dataset_;
  ServerStats stats_;
};

TEST_F(DataServiceTest, SameBytesForAnyProducerThreadCount) {
  auto one = Collect(Service(1), Request());
  auto four = Collect(Service(4), Request());
  EXPECT_FALSE(one.empty());
  EXPECT_EQ(one, four);
}

TEST_F(DataServiceTest, UnionOfShardsIsTheUnshardedStream) {
  auto whole = Collect(Service(2), Request());
  for (int count : {2, 3}) {
    std::map<int64_t, std::string> merged;
    for (int k = 0; k < count; ++k) {
      v1::StreamTripletsRequest request = Request();
      request.mutable_shard()->set_count(count);
      request.mutable_shard()->set_index(k);
      for (auto& [index, bytes] : Collect(Service(k + 1), request)) {
        EXPECT_EQ(index % count, k);
        EXPECT_TRUE(merged.emplace(index, bytes).second) << "index " << index << " twice";
      }
    }
    EXPECT_EQ(merged, whole) << count << " shards";
  }
}

TEST_F(DataServiceTest, ResumeFromStartIndexGivesTheSameTail) {
  auto whole = Collect(Service(2), Request());
  v1::StreamTripletsRequest request = Request();
  request.set_start_index(5);
  auto tail = Collect(Service(3), request);
  ASSERT_EQ(tail.size() + 5, whole.size());
  for (auto& [index, bytes] : tail) EXPECT_EQ(bytes, whole.at(index));
}

TEST_F(DataServiceTest, InfoDescribesSplitsAndEpoch) {
  v1::GetDatasetInfoRequest request;
  request.set_batch_size(8);
  v1::GetDatasetInfoResponse info;
  ASSERT_TRUE(Service(1).GetDatasetInfo(request, &info).ok());
  EXPECT_EQ(info.channel_names_size(), 3);
  EXPECT_EQ(info.window_length(), 32);
  EXPECT_EQ(info.norm_mean_size(), 3);
  ASSERT_EQ(info.splits_size(), 4);
  EXPECT_EQ(info.splits(0).split(), v1::SPLIT_TRAIN);
  EXPECT_EQ(info.splits(0).users(), 5);
  EXPECT_EQ(info.splits(2).users(), 1);
  EXPECT_EQ(info.splits(0).windows(), 170);
  EXPECT_EQ(info.batches_per_epoch(), (170 + 7) / 8);
  EXPECT_EQ(info.fingerprint(), FingerprintHex(dataset_->fingerprint));
  EXPECT_TRUE(info.augmentation_enabled());
}

TEST_F(DataServiceTest, RejectsInvalidRequestsWithAReason) {
  DataService service = Service(1);
  struct Case {
    std::function<void(v1::StreamTripletsRequest*)> mutate;
    std::string message;
  };
  std::vector<Case> cases = {
      {[](auto* r) { r->set_split(v1::SPLIT_TEST); }, "training split"},
      {[](auto* r) { r->set_mode(v1::SAMPLING_MODE_UNSPECIFIED); }, "mode"},
      {[](auto* r) { r->set_batch_size(0); }, "batch_size"},
      {[](auto* r) { r->set_batch_size(100000); }, "batch_size"},
      {[](auto* r) { r->set_mode(v1::SAMPLING_MODE_PK); r->set_p(9); r->set_k(2); }, "p must"},
      {[](auto* r) { r->set_mode(v1::SAMPLING_MODE_PK); r->set_p(2); r->set_k(1); }, "k must"},
      {[](auto* r) { r->set_epoch(-1); }, "epoch"},
      {[](auto* r) { r->set_start_index(-4); }, "start_index"},
      {[](auto* r) { r->mutable_shard()->set_count(2); r->mutable_shard()->set_index(2); },
       "shard.index"},
      {[](auto* r) { r->set_expected_fingerprint("00000000deadbeef"); }, "fingerprint"},
  };
  for (const Case& c : cases) {
    v1::StreamTripletsRequest request = Request();
    c.mutate(&request);
    auto pipeline = service.NewTripletPipeline(request, nullptr);
    ASSERT_FALSE(pipeline.ok()) << c.message;
    EXPECT_THAT(pipeline.status().message(), HasSubstr(c.message));
  }
  v1::StreamWindowsRequest windows;
  windows.set_batch_size(4);
  EXPECT_FALSE(service.NewWindowPipeline(windows, nullptr).ok());  // No split.
}

}  // namespace
}  // namespace tripletstream

namespace tripletstream {
namespace {

TEST(DataServiceLimitsTest, StreamsBeyondMaxStreamsAreRefusedUntilOneEnds) {
  ServerStats stats;
  DataServiceConfig config;
  config.limits.max_streams = 2;
  DataService service(testing::SmallPreparedDataset(), config, &stats);
  auto first = service.NewTripletPipeline(Request(), nullptr);
  auto windows = service.NewWindowPipeline(
      [] {
        v1::StreamWindowsRequest r;
        r.set_split(v1::SPLIT_TEST);
        r.set_batch_size(16);
        return r;
      }(),
      nullptr);
  ASSERT_TRUE(first.ok() && windows.ok());
  auto third = service.NewTripletPipeline(Request(), nullptr);
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(third.status().message(), HasSubstr("--max_streams"));
  EXPECT_EQ(stats.streams_refused_streams.load(), 1);
  first->reset();  // A finished stream's pipeline is destroyed: its share returns.
  EXPECT_TRUE(service.NewTripletPipeline(Request(), nullptr).ok());
}

TEST(DataServiceLimitsTest, StreamsWhoseBuffersPassTheMemoryBudgetAreRefused) {
  ServerStats stats;
  DataServiceConfig config;
  config.producer_threads = 2;
  config.buffers_per_thread = 2;
  auto dataset = testing::SmallPreparedDataset();
  // One stream of batch 8 pins 2 x 2 x 24 windows of 32 x 3 floats.
  const int64_t per_stream = 2 * 2 * 24 * dataset->window_floats() * 4;
  config.limits.max_inflight_bytes = per_stream + per_stream / 2;
  DataService service(dataset, config, &stats);
  auto first = service.NewTripletPipeline(Request(), nullptr);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(stats.inflight_bytes_reserved.load(), per_stream);
  auto second = service.NewTripletPipeline(Request(), nullptr);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(second.status().message(), HasSubstr("--max_inflight_mb"));
  EXPECT_EQ(stats.streams_refused_memory.load(), 1);
  first->reset();
  EXPECT_EQ(stats.inflight_bytes_reserved.load(), 0);
}

}  // namespace
}  // namespace tripletstream
