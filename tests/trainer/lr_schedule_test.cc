#include "trainer/lr_schedule.h"

#include <gtest/gtest.h>

namespace tripletstream {
namespace {

TEST(LearningRateTest, WarmsUpLinearlyThenDecaysByCosineToTheFloor) {
  EXPECT_DOUBLE_EQ(LearningRate(0, 10, 110, 1.0), 0.1);
  EXPECT_DOUBLE_EQ(LearningRate(9, 10, 110, 1.0), 1.0);
  EXPECT_DOUBLE_EQ(LearningRate(10, 10, 110, 1.0), 1.0);
  // Halfway through the decay: floor + (peak - floor) / 2.
  EXPECT_NEAR(LearningRate(60, 10, 110, 1.0, 0.05), 0.525, 1e-12);
  EXPECT_NEAR(LearningRate(110, 10, 110, 1.0, 0.05), 0.05, 1e-12);
  EXPECT_NEAR(LearningRate(500, 10, 110, 1.0, 0.05), 0.05, 1e-12);  // Held.
}

TEST(LearningRateTest, TimeBudgetDrivesTheDecayWhenItRunsOutFirst) {
  // 10% of the steps but 50% of the time: the rate is the halfway one.
  EXPECT_NEAR(LearningRate(20, 10, 110, 1.0, 0.05, 0.5), 0.525, 1e-12);
  // Time used up: the floor, whatever the step count.
  EXPECT_NEAR(LearningRate(20, 10, 1000000, 1.0, 0.05, 1.0), 0.05, 1e-12);
  // Steps ahead of the clock: steps decide.
  EXPECT_NEAR(LearningRate(60, 10, 110, 1.0, 0.05, 0.1), 0.525, 1e-12);
  // No step horizon after warm-up: the clock alone decides.
  EXPECT_NEAR(LearningRate(20, 10, 10, 1.0, 0.05, 0.5), 0.525, 1e-12);
  EXPECT_DOUBLE_EQ(LearningRate(20, 10, 10, 1.0), 1.0);
  // Warm-up is not affected by the clock.
  EXPECT_DOUBLE_EQ(LearningRate(4, 10, 110, 1.0, 0.05, 0.9), 0.5);
}

}  // namespace
}  // namespace tripletstream
