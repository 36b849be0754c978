#include "common/derived_channels.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

namespace tripletstream {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::vector<std::string> kMotionSense = {
    "attitude.roll",      "attitude.pitch",     "attitude.yaw",   "gravity.x",
    "gravity.y",          "gravity.z",          "rotationRate.x", "rotationRate.y",
    "rotationRate.z",     "userAcceleration.x", "userAcceleration.y", "userAcceleration.z"};

TEST(DerivedChannelsTest, TriadsAreFoundByTheirXYZSuffixes) {
  auto triads = FindTriads(kMotionSense);
  ASSERT_EQ(triads.size(), 3u);
  EXPECT_EQ(triads[0].prefix, "gravity");
  EXPECT_EQ(triads[1].prefix, "rotationRate");
  EXPECT_EQ(triads[2].prefix, "userAcceleration");
  EXPECT_EQ(triads[1].axes[2], 8);
  // Underscores, upper case, any column order; an incomplete triad is none.
  auto wrist = FindTriads({"time", "acc_Z", "acc_X", "acc_Y", "gyr_x", "gyr_y"});
  ASSERT_EQ(wrist.size(), 1u);
  EXPECT_EQ(wrist[0].prefix, "acc");
  EXPECT_EQ(wrist[0].axes[0], 2);
  EXPECT_EQ(wrist[0].axes[2], 1);
}

TEST(DerivedChannelsTest, MagnitudesAndSumsAreAddedAndAxesOptionallyDropped) {
  DerivedChannelsConfig config;
  config.magnitudes = true;
  config.sums = {"userAcceleration+gravity"};
  auto kept = PlanDerivedChannels(kMotionSense, config);
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(kept->outputs.size(), 12u + 4u);
  EXPECT_EQ(kept->outputs.back().name, "|userAcceleration+gravity|");
  config.keep_axes = false;
  config.magnitudes = false;
  auto only = PlanDerivedChannels(kMotionSense, config);
  ASSERT_TRUE(only.ok());
  EXPECT_THAT(only->names(), ElementsAre("attitude.roll", "attitude.pitch", "attitude.yaw",
                                         "rotationRate.x", "rotationRate.y", "rotationRate.z",
                                         "|userAcceleration+gravity|"));
}

TEST(DerivedChannelsTest, ValuesAreMagnitudesOfTheSummedAxes) {
  DerivedChannelsConfig config;
  config.sums = {"a+b"};
  config.magnitudes = true;
  config.keep_axes = false;
  const std::vector<std::string> names = {"a.x", "a.y", "a.z", "b.x", "b.y", "b.z", "t"};
  auto plan = PlanDerivedChannels(names, config);
  ASSERT_TRUE(plan.ok());
  EXPECT_THAT(plan->names(), ElementsAre("t", "|a|", "|b|", "|a+b|"));
  const std::vector<float> raw = {3, 4, 0, 0, 0, 2, 9,    // row 0
                                  1, 2, 2, -1, -2, -2, 5};  // row 1
  std::vector<float> out = ApplyPlan(*plan, 7, raw);
  EXPECT_THAT(out, ElementsAre(9, 5, 2, std::sqrt(29.0f),  // |(3,4,2)|
                               5, 3, 3, 0));
}

TEST(DerivedChannelsTest, ACheckpointsChannelListIsRecomputedFromRawColumns) {
  DerivedChannelsConfig config;
  config.magnitudes = true;
  config.sums = {"userAcceleration+gravity"};
  config.keep_axes = false;
  auto plan = PlanDerivedChannels(kMotionSense, config);
  ASSERT_TRUE(plan.ok());
  // A CSV with the columns in another order gives the same outputs.
  std::vector<std::string> shuffled(kMotionSense.rbegin(), kMotionSense.rend());
  auto again = PlanFromNames(plan->names(), shuffled);
  ASSERT_TRUE(again.ok()) << again.status();
  std::vector<float> row(12), reversed(12);
  for (int c = 0; c < 12; ++c) row[c] = reversed[11 - c] = 0.5f * c - 2;
  EXPECT_EQ(ApplyPlan(*plan, 12, row), ApplyPlan(*again, 12, reversed));
  auto missing = PlanFromNames({"|magnetometer|"}, kMotionSense);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("triads found: gravity, rotationRate"));
}

TEST(DerivedChannelsTest, UnknownTriadsAndMissingTriadsAreClearErrors) {
  DerivedChannelsConfig config;
  config.sums = {"userAcceleration+magnetometer"};
  auto bad = PlanDerivedChannels(kMotionSense, config);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("no triad 'magnetometer'"));
  config.sums = {"gravity"};
  EXPECT_THAT(PlanDerivedChannels(kMotionSense, config).status().message(),
              HasSubstr("two or more triads"));
  DerivedChannelsConfig magnitudes;
  magnitudes.magnitudes = true;
  EXPECT_THAT(PlanDerivedChannels({"hr", "temp"}, magnitudes).status().message(),
              HasSubstr("no sensor triads"));
  EXPECT_TRUE(IsIdentity(*PlanDerivedChannels(kMotionSense, {}), 12));
}

}  // namespace
}  // namespace tripletstream
