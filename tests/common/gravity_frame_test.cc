#include "common/gravity_frame.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "common/derived_channels.h"

namespace tripletstream {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A walk: total acceleration (gravity 9.81 along the device's `down`
// plus a bounce), rotation rate, and a heart-rate channel; `turn` is a
// rotation matrix applied to both triads (the device worn another way).
Series Walk(const double turn[3][3], int rows, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0.0, 0.3);
  Series s;
  for (int r = 0; r < rows; ++r) {
    const double phase = 2 * M_PI * r / 50.0;
    const double acc[3] = {1.5 * std::sin(phase) + noise(rng), 0.8 * std::cos(phase),
                           9.81 + 2 * std::sin(2 * phase)};
    const double gyro[3] = {0.5 * std::cos(phase), 0.3 * std::sin(phase) + noise(rng),
                            0.2 * std::sin(2 * phase)};
    for (const double* v : {acc, gyro}) {
      for (int i = 0; i < 3; ++i) {
        s.values.push_back(static_cast<float>(turn[i][0] * v[0] + turn[i][1] * v[1] +
                                              turn[i][2] * v[2]));
      }
    }
    s.values.push_back(70.0f + r % 3);
  }
  return s;
}

constexpr double kIdentity[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
// 120 degrees about (1, 1, 1) / sqrt(3): x -> y -> z -> x.
constexpr double kTurned[3][3] = {{0, 0, 1}, {1, 0, 0}, {0, 1, 0}};

Dataset WalkDataset(const double turn[3][3]) {
  Dataset d;
  d.channel_names = {"acc_x", "acc_y", "acc_z", "gyro_x", "gyro_y", "gyro_z", "hr"};
  d.user_names = {"u1"};
  d.session_names = {"s1"};
  d.series.push_back(Walk(turn, 400, 7));
  return d;
}

TEST(GravityFrameTest, TheTriadThatCarriesGravityScoresHighest) {
  const Dataset d = WalkDataset(kIdentity);
  const auto scores =
      ScoreGravityTriads(d, {"acc", "gyro"}, {{{0, 1, 2}}, {{3, 4, 5}}});
  ASSERT_EQ(scores.size(), 2u);
  EXPECT_GT(scores[0].score, 0.9);
  EXPECT_LT(scores[1].score, 0.2);
}

TEST(GravityFrameTest, AutoPicksTheGravityTriadAndReplacesEveryTriadsAxes) {
  DerivedChannelsConfig config;
  config.gravity_frame = GravityFrameMode::kAuto;
  config.gravity_span = 64;
  std::string summary;
  ASSERT_TRUE(ResolveGravityTriad(WalkDataset(kIdentity), &config, &summary).ok());
  EXPECT_EQ(config.gravity_triad, "acc");
  EXPECT_THAT(summary, HasSubstr("mean of acc over 64 rows"));
  auto plan = PlanDerivedChannels(WalkDataset(kIdentity).channel_names, config);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(plan->names(),
              ElementsAre("hr", "vertical(acc;acc,64)", "horizontal(acc;acc,64)",
                          "vertical(gyro;acc,64)", "horizontal(gyro;acc,64)"));
}

TEST(GravityFrameTest, TurningTheDeviceChangesNothing) {
  DerivedChannelsConfig config;
  config.gravity_frame = GravityFrameMode::kOn;
  config.gravity_triad = "acc";
  config.gravity_span = 50;
  const Dataset upright = WalkDataset(kIdentity);
  const Dataset turned = WalkDataset(kTurned);
  auto plan = PlanDerivedChannels(upright.channel_names, config);
  ASSERT_TRUE(plan.ok()) << plan.status();
  const std::vector<float> a = ApplyPlan(*plan, 7, upright.series[0].values);
  const std::vector<float> b = ApplyPlan(*plan, 7, turned.series[0].values);
  ASSERT_EQ(a.size(), b.size());
  ASSERT_EQ(a.size(), 400u * 5);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-3) << "at " << i;
  // The raw axes do change, and the vertical acceleration is ~g.
  EXPECT_NE(upright.series[0].values[0], turned.series[0].values[0]);
  EXPECT_NEAR(a[5 * 200 + 1], 9.81, 2.5);
  // vertical^2 + horizontal^2 = |v|^2 at every row.
  for (int r = 0; r < 400; r += 37) {
    const float* raw = upright.series[0].values.data() + 7 * r;
    const double g2 = raw[3] * raw[3] + raw[4] * raw[4] + raw[5] * raw[5];
    const float* row = a.data() + 5 * r;
    EXPECT_NEAR(row[3] * row[3] + row[4] * row[4], g2, 1e-3 * (1 + g2));
  }
}

TEST(GravityFrameTest, ACheckpointsFrameChannelsAreRecomputedFromRawColumns) {
  DerivedChannelsConfig config;
  config.gravity_frame = GravityFrameMode::kOn;
  config.gravity_triad = "acc";
  config.gravity_span = 32;
  const Dataset d = WalkDataset(kIdentity);
  auto plan = PlanDerivedChannels(d.channel_names, config);
  ASSERT_TRUE(plan.ok());
  // A CSV with its columns in another order: hr first, gyro before acc.
  const std::vector<std::string> csv = {"hr",    "gyro_x", "gyro_y", "gyro_z",
                                        "acc_x", "acc_y",  "acc_z"};
  std::vector<float> reordered;
  for (size_t r = 0; r < 400; ++r) {
    const float* row = d.series[0].values.data() + 7 * r;
    reordered.insert(reordered.end(), {row[6], row[3], row[4], row[5], row[0], row[1], row[2]});
  }
  auto again = PlanFromNames(plan->names(), csv);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(ApplyPlan(*plan, 7, d.series[0].values), ApplyPlan(*again, 7, reordered));
  EXPECT_TRUE(IsDerivedChannelName("horizontal(gyro;acc,32)"));
  EXPECT_FALSE(IsDerivedChannelName("vertical(gyro)"));
  auto missing = PlanFromNames({"vertical(gyro;acc,32)"}, {"gyro_x", "gyro_y", "gyro_z"});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("needs the triads gyro and acc"));
}

TEST(GravityFrameTest, WithoutAGravityTriadAutoStepsAsideAndOnIsAnError) {
  Dataset d;
  d.channel_names = {"gyro_x", "gyro_y", "gyro_z", "hr"};
  d.user_names = {"u1"};
  d.session_names = {"s1"};
  Series s;
  for (int r = 0; r < 100; ++r) {
    s.values.insert(s.values.end(), {std::sin(r * 0.3f), std::cos(r * 0.2f), -std::sin(r * 0.1f),
                                     60.0f});
  }
  d.series.push_back(s);
  DerivedChannelsConfig config;
  config.gravity_frame = GravityFrameMode::kAuto;
  std::string summary;
  ASSERT_TRUE(ResolveGravityTriad(d, &config, &summary).ok());
  EXPECT_EQ(config.gravity_frame, GravityFrameMode::kOff);
  EXPECT_THAT(summary, HasSubstr("no triad carries gravity"));
  EXPECT_THAT(summary, HasSubstr("gyro 0."));
  EXPECT_TRUE(IsIdentity(*PlanDerivedChannels(d.channel_names, config), 4));

  config.gravity_frame = GravityFrameMode::kOn;
  auto on = ResolveGravityTriad(d, &config, &summary);
  EXPECT_EQ(on.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(on.message(), HasSubstr("--gravity_triad"));
  config.gravity_triad = "magnetometer";
  EXPECT_THAT(ResolveGravityTriad(d, &config, &summary).message(),
              HasSubstr("triads found: gyro"));
  // No triads at all: auto leaves the channels alone.
  Dataset plain = d;
  plain.channel_names = {"a", "b", "c", "hr"};
  DerivedChannelsConfig automatic;
  automatic.gravity_frame = GravityFrameMode::kAuto;
  ASSERT_TRUE(ResolveGravityTriad(plain, &automatic, &summary).ok());
  EXPECT_EQ(automatic.gravity_frame, GravityFrameMode::kOff);
  EXPECT_THAT(summary, HasSubstr("no triads"));
}

}  // namespace
}  // namespace tripletstream
