#include "common/normalizer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace tripletstream {
namespace {

// A dataset of `channels` channels whose series hold `series_values`
// (row-major, rows x channels), every series its own user and session.
Dataset MakeDataset(int channels, const std::vector<std::vector<float>>& series_values) {
  Dataset dataset;
  for (int c = 0; c < channels; ++c) dataset.channel_names.push_back(absl::StrCat("c", c));
  for (size_t s = 0; s < series_values.size(); ++s) {
    dataset.user_names.push_back(absl::StrCat("user_", s));
    dataset.session_names.push_back(absl::StrCat("session_", s));
    Series series;
    series.user = static_cast<int32_t>(s);
    series.session = static_cast<int32_t>(s);
    series.values = series_values[s];
    dataset.series.push_back(std::move(series));
  }
  return dataset;
}

std::vector<bool> All(const Dataset& dataset) {
  return std::vector<bool>(dataset.series.size(), true);
}

TEST(NormalizerTest, MeanAndPopulationStdPerChannel) {
  // Channel 0: 1, 2, 3, 4 (mean 2.5, population variance 1.25; the sample
  // variance would be 5/3). Channel 1: 10, 30, 10, 30 (mean 20, std 10).
  Dataset dataset = MakeDataset(2, {{1, 10, 2, 30}, {3, 10, 4, 30}});
  NormStats stats = ComputeNormStats(dataset, All(dataset));
  ASSERT_EQ(stats.mean.size(), 2u);
  ASSERT_EQ(stats.std.size(), 2u);
  EXPECT_FLOAT_EQ(stats.mean[0], 2.5f);
  EXPECT_FLOAT_EQ(stats.std[0], static_cast<float>(std::sqrt(1.25)));
  EXPECT_FLOAT_EQ(stats.mean[1], 20.0f);
  EXPECT_FLOAT_EQ(stats.std[1], 10.0f);
}

TEST(NormalizerTest, ExcludedSeriesDoNotContribute) {
  Dataset dataset = MakeDataset(1, {{0, 2}, {1000, -1000, 5000}, {4, 6}});
  NormStats stats = ComputeNormStats(dataset, {true, false, true});
  // Values 0, 2, 4, 6: mean 3, population variance 5.
  EXPECT_FLOAT_EQ(stats.mean[0], 3.0f);
  EXPECT_FLOAT_EQ(stats.std[0], static_cast<float>(std::sqrt(5.0)));
}

TEST(NormalizerTest, EveryRowWeighsTheSameWhateverItsSeriesLength) {
  // One row of 0 and three rows of 4: the pooled mean is 3, not the mean of
  // the two series means (2).
  Dataset dataset = MakeDataset(1, {{0}, {4, 4, 4}});
  NormStats stats = ComputeNormStats(dataset, All(dataset));
  EXPECT_FLOAT_EQ(stats.mean[0], 3.0f);
  EXPECT_FLOAT_EQ(stats.std[0], static_cast<float>(std::sqrt(3.0)));
}

TEST(NormalizerTest, ZeroVarianceChannelKeepsValuesFinite) {
  // Channel 0 is constant; channel 1 varies.
  Dataset dataset = MakeDataset(2, {{7, 1, 7, 3, 7, 5}});
  NormStats stats = ComputeNormStats(dataset, All(dataset));
  EXPECT_FLOAT_EQ(stats.mean[0], 7.0f);
  EXPECT_GE(stats.std[0], NormStats::kMinStd);
  std::vector<float> values = dataset.series[0].values;
  NormalizeRows(stats, values.data(), 3);
  for (int r = 0; r < 3; ++r) {
    EXPECT_TRUE(std::isfinite(values[r * 2])) << "row " << r;
    EXPECT_EQ(values[r * 2], 0.0f) << "row " << r;
    EXPECT_TRUE(std::isfinite(values[r * 2 + 1])) << "row " << r;
  }
  EXPECT_FLOAT_EQ(stats.std[1], static_cast<float>(std::sqrt(8.0 / 3.0)));
}

TEST(NormalizerTest, StdIsNeverBelowTheMinimum) {
  // A spread of about 1.2e-7 (one float ulp at 1.0), below kMinStd, and a
  // constant series must not become divisors.
  Dataset dataset = MakeDataset(1, {{1.0f, 1.0f + 2e-7f, 1.0f, 1.0f + 2e-7f},
                                    {0.5f, 0.5f}});
  NormStats tiny = ComputeNormStats(dataset, {true, false});
  EXPECT_GE(tiny.std[0], NormStats::kMinStd);
  NormStats constant = ComputeNormStats(dataset, {false, true});
  EXPECT_GE(constant.std[0], NormStats::kMinStd);
}

TEST(NormalizerTest, SmallButNonzeroSpreadIsKept) {
  // 1e-4 is above kMinStd: it is the real spread and is used as is.
  Dataset dataset = MakeDataset(1, {{-1e-4f, 1e-4f, -1e-4f, 1e-4f}});
  NormStats stats = ComputeNormStats(dataset, All(dataset));
  EXPECT_NEAR(stats.mean[0], 0.0f, 1e-12f);
  EXPECT_FLOAT_EQ(stats.std[0], 1e-4f);
}

TEST(NormalizerTest, LargeOffsetChannelGetsItsExactSpread) {
  // 1e7 +- 4 (all exact in float). A one-pass sum of squares (~1e17 over
  // these rows) would lose the variance of 16 to rounding.
  std::vector<float> values;
  for (int r = 0; r < 2000; ++r) values.push_back(r % 2 == 0 ? 1e7f - 4.0f : 1e7f + 4.0f);
  Dataset dataset = MakeDataset(1, {values});
  NormStats stats = ComputeNormStats(dataset, All(dataset));
  EXPECT_FLOAT_EQ(stats.mean[0], 1e7f);
  EXPECT_FLOAT_EQ(stats.std[0], 4.0f);
}

TEST(NormalizerTest, NoIncludedRowsGiveIdentityStats) {
  Dataset dataset = MakeDataset(2, {{1, 2, 3, 4}});
  NormStats stats = ComputeNormStats(dataset, {false});
  EXPECT_EQ(stats.mean, (std::vector<float>{0.0f, 0.0f}));
  EXPECT_EQ(stats.std, (std::vector<float>{1.0f, 1.0f}));
  std::vector<float> values = {1, 2, 3, 4};
  NormalizeRows(stats, values.data(), 2);
  EXPECT_EQ(values, (std::vector<float>{1, 2, 3, 4}));
}

TEST(NormalizerTest, NormalizeRowsAppliesTheZScorePerChannel) {
  NormStats stats;
  stats.mean = {1.0f, -2.0f, 10.0f};
  stats.std = {2.0f, 0.5f, 4.0f};
  std::vector<float> values = {3, -2, 2,     // row 0
                               -1, -1, 30};  // row 1
  NormalizeRows(stats, values.data(), 2);
  EXPECT_EQ(values, (std::vector<float>{1, 0, -2, -1, 2, 5}));
}

TEST(NormalizerTest, NormalizeRowsLeavesRowsPastTheCountAlone) {
  NormStats stats;
  stats.mean = {1.0f, 1.0f};
  stats.std = {2.0f, 2.0f};
  std::vector<float> values = {5, 7, 5, 7};
  NormalizeRows(stats, values.data(), 1);
  EXPECT_EQ(values, (std::vector<float>{2, 3, 5, 7}));
  NormalizeRows(stats, values.data(), 0);
  EXPECT_EQ(values, (std::vector<float>{2, 3, 5, 7}));
}

TEST(NormalizerTest, NormalizedIncludedRowsHaveZeroMeanAndUnitStd) {
  Dataset dataset = MakeDataset(3, {{0.5f, 100, -3, 1.5f, 140, -1, 2.0f, 90, -8},
                                    {4.0f, 120, 0, 3.0f, 110, 2}});
  NormStats stats = ComputeNormStats(dataset, All(dataset));
  Dataset normalized = dataset;
  for (Series& series : normalized.series) {
    NormalizeRows(stats, series.values.data(), series.rows(normalized.channels()));
  }
  NormStats after = ComputeNormStats(normalized, All(normalized));
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(after.mean[c], 0.0f, 1e-6f) << "channel " << c;
    EXPECT_NEAR(after.std[c], 1.0f, 1e-5f) << "channel " << c;
  }
}

}  // namespace
}  // namespace tripletstream
