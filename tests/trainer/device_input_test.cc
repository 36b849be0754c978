#include "trainer/device_input.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace tripletstream {
namespace {

using ::testing::ElementsAre;

// Records what the ring asks of the device, in order; "copies" on the CPU.
class RecordingDevice : public StagingDevice {
 public:
  explicit RecordingDevice(std::vector<std::string>* log) : log_(log) {}
  torch::Tensor HostBuffer(int slot, int64_t bytes) override {
    log_->push_back(absl::StrCat("alloc ", slot, " ", bytes));
    return torch::empty({bytes}, torch::kUInt8);
  }
  void WaitCopied(int slot) override { log_->push_back(absl::StrCat("wait ", slot)); }
  torch::Tensor CopyToDevice(int slot, const torch::Tensor& host) override {
    log_->push_back(absl::StrCat("copy ", slot));
    return host.clone();
  }

 private:
  std::vector<std::string>* log_;
};

v1::Batch MakeBatch(int n, float base) {
  v1::Batch batch;
  for (int64_t d : {3, n, 4, 2}) batch.add_shape(d);
  std::vector<float> values(3 * n * 4 * 2);
  for (size_t i = 0; i < values.size(); ++i) values[i] = base + static_cast<float>(i);
  batch.mutable_data()->assign(reinterpret_cast<const char*>(values.data()),
                               values.size() * sizeof(float));
  for (int i = 0; i < 3 * n; ++i) batch.add_labels(static_cast<int32_t>(base) + i);
  return batch;
}

TEST(DeviceInputTest, SlotsAreReusedInTurnOnlyAfterTheirLastCopy) {
  std::vector<std::string> log;
  DeviceInput input(std::make_unique<RecordingDevice>(&log), 2);
  for (int i = 0; i < 3; ++i) input.Stage(MakeBatch(2, 100.0f * i));
  // Batch 2 reuses slot 0: it waits for batch 0's copy before refilling.
  EXPECT_THAT(log, ElementsAre("wait 0", "alloc 0 216", "copy 0", "wait 1", "alloc 1 216",
                               "copy 1", "wait 0", "copy 0"));
  EXPECT_EQ(input.staged(), 3);
}

TEST(DeviceInputTest, StagedTensorsHoldTheBatchWithItsShapeAndLabels) {
  std::vector<std::string> log;
  DeviceInput input(std::make_unique<RecordingDevice>(&log), 2);
  v1::Batch batch = MakeBatch(3, 7.0f);
  auto [data, labels] = input.Stage(batch);
  EXPECT_EQ(data.sizes(), (std::vector<int64_t>{3, 3, 4, 2}));
  EXPECT_EQ(data.scalar_type(), torch::kFloat32);
  EXPECT_EQ(labels.scalar_type(), torch::kInt32);
  torch::Tensor expected = torch::from_blob(batch.mutable_data()->data(), {3, 3, 4, 2});
  EXPECT_TRUE(torch::equal(data, expected));
  ASSERT_EQ(labels.numel(), 9);
  EXPECT_EQ(labels[0].item<int32_t>(), 7);
  EXPECT_EQ(labels[8].item<int32_t>(), 15);
}

TEST(DeviceInputTest, ALargerBatchGrowsItsSlotAfterTheWait) {
  std::vector<std::string> log;
  DeviceInput input(std::make_unique<RecordingDevice>(&log), 1);
  input.Stage(MakeBatch(1, 0));
  input.Stage(MakeBatch(4, 0));
  input.Stage(MakeBatch(2, 0));  // Fits the grown buffer: no new allocation.
  EXPECT_THAT(log, ElementsAre("wait 0", "alloc 0 140", "copy 0", "wait 0", "alloc 0 432",
                               "copy 0", "wait 0", "copy 0"));
}

TEST(DeviceInputTest, CpuNeedsNoStaging) {
  EXPECT_EQ(DeviceInput::ForDevice(torch::kCPU), nullptr);
}

}  // namespace
}  // namespace tripletstream
