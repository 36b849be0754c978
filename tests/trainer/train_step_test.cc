#include "trainer/train_step.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "common/digest.h"

namespace tripletstream {
namespace {

// A triplet batch of `b` triplets of [t, c] windows; positives near their
// anchors, negatives far.
v1::Batch TripletBatch(int b, int t, int c) {
  v1::Batch batch;
  batch.set_mode(v1::SAMPLING_MODE_TRIPLET);
  for (int64_t d : {3, b, t, c}) batch.add_shape(d);
  std::vector<float> values(static_cast<size_t>(3 * b * t * c));
  for (size_t i = 0; i < values.size(); ++i) {
    values[i] = std::sin(0.37f * static_cast<float>(i % (b * t * c))) +
                (i >= static_cast<size_t>(2 * b * t * c) ? 1.5f : 0.0f);
  }
  batch.mutable_data()->assign(reinterpret_cast<const char*>(values.data()),
                               values.size() * sizeof(float));
  for (int i = 0; i < 3 * b; ++i) batch.add_labels(i < 2 * b ? 0 : 1);
  return batch;
}

class TrainStepTest : public ::testing::Test {
 protected:
  TrainStepTest() {
    config_.model.in_channels = 3;
    config_.model.channels = 4;
    config_.model.levels = 2;
    config_.model.embedding = 4;
    config_.model.dropout = 0;
    torch::manual_seed(3);
    model_ = Tcn(config_.model);
    optimizer_ = std::make_unique<torch::optim::AdamW>(model_->parameters(),
                                                       torch::optim::AdamWOptions(1e-2));
  }
  TrainConfig config_;
  Tcn model_{nullptr};
  std::unique_ptr<torch::optim::AdamW> optimizer_;
};

TEST_F(TrainStepTest, StepUpdatesTheWeightsAndReportsTheBatch) {
  std::vector<torch::Tensor> before;
  for (const auto& p : model_->parameters()) before.push_back(p.detach().clone());
  v1::Batch batch = TripletBatch(4, 16, 3);
  auto outcome = TrainStep(config_, 0, 1e-2, batch, model_, *optimizer_, torch::kCPU);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->anchors, 4);
  EXPECT_TRUE(std::isfinite(outcome->loss));
  EXPECT_GE(outcome->loss, 0);
  bool changed = false;
  auto after = model_->parameters();
  for (size_t i = 0; i < before.size(); ++i) changed |= !torch::equal(before[i], after[i]);
  EXPECT_TRUE(changed);
}

TEST_F(TrainStepTest, NonFiniteLossStopsWithAClearError) {
  config_.margin = std::numeric_limits<double>::quiet_NaN();
  v1::Batch batch = TripletBatch(4, 16, 3);
  auto outcome = TrainStep(config_, 6, 1e-2, batch, model_, *optimizer_, torch::kCPU);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(outcome.status().message(), ::testing::HasSubstr("step 7"));
}

TEST_F(TrainStepTest, LibTorchErrorsBecomeStatuses) {
  v1::Batch batch = TripletBatch(4, 16, 5);  // 5 channels into a 3-channel model.
  auto outcome = TrainStep(config_, 0, 1e-2, batch, model_, *optimizer_, torch::kCPU);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace tripletstream
