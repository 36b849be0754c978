#include "common/prepared_dataset.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "tests/testing/synthetic_data.h"

namespace tripletstream {
namespace {

using ::testing::HasSubstr;

testing::SyntheticSpec Spec() {
  testing::SyntheticSpec spec;
  spec.users = 5;
  spec.sessions_per_user = 3;
  spec.rows_per_session = 200;
  spec.channels = 3;
  return spec;
}

PreprocessConfig Config() {
  PreprocessConfig config;
  config.window_length = 32;
  config.window_stride = 16;
  config.split.test_user_regex = "user_4";
  config.split.holdout_session_regex = "session_2";
  return config;
}

TEST(PreparedDatasetTest, NormalizesWithTrainingStatisticsOnly) {
  Dataset raw = testing::MakeSyntheticDataset(Spec());
  auto prepared = PrepareDataset(raw, Config());
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  const PreparedDataset& d = **prepared;
  // Recompute the statistics by hand over training series of the raw data.
  for (int c = 0; c < 3; ++c) {
    double sum = 0, sum_sq = 0;
    int64_t n = 0;
    for (size_t s = 0; s < raw.series.size(); ++s) {
      if (d.splits.series_split[s] != SplitId::kTrain) continue;
      const auto& v = raw.series[s].values;
      for (size_t r = 0; r * 3 < v.size(); ++r) {
        sum += v[r * 3 + c];
        sum_sq += double(v[r * 3 + c]) * v[r * 3 + c];
        ++n;
      }
    }
    double mean = sum / n;
    double sd = std::sqrt(sum_sq / n - mean * mean);
    EXPECT_NEAR(d.norm.mean[c], mean, 1e-4) << "channel " << c;
    EXPECT_NEAR(d.norm.std[c], sd, 1e-4) << "channel " << c;
  }
  // Including the held-out and test series would give other statistics.
  NormStats all = ComputeNormStats(raw, std::vector<bool>(raw.series.size(), true));
  EXPECT_GT(std::abs(all.mean[0] - d.norm.mean[0]), 1e-3);
  // Values are normalized in place: x' = (x - mean) / std.
  EXPECT_NEAR(d.data.series[0].values[1],
              (raw.series[0].values[1] - d.norm.mean[1]) / d.norm.std[1], 1e-5);
}

TEST(PreparedDatasetTest, WindowsStayInsideOneSeries) {
  auto prepared = PrepareDataset(testing::MakeSyntheticDataset(Spec()), Config());
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  const PreparedDataset& d = **prepared;
  int64_t total = 0;
  for (int i = 0; i < kNumSplits; ++i) {
    const SplitWindows& split = d.windows.split(static_cast<SplitId>(i));
    for (const WindowRef& w : split.windows) {
      EXPECT_LE(w.offset + 32, d.data.series[w.series].rows(3));
      EXPECT_EQ(w.offset % 16, 0);
      EXPECT_EQ(d.splits.series_split[w.series], static_cast<SplitId>(i));
    }
    total += split.windows.size();
  }
  // (200 - 32) / 16 + 1 = 11 windows per series, 15 series.
  EXPECT_EQ(total, 15 * 11);
  EXPECT_EQ(d.windows.split(SplitId::kTrain).windows.size(), 4u * 2 * 11);
  EXPECT_EQ(d.windows.split(SplitId::kHoldout).windows.size(), 4u * 1 * 11);
  EXPECT_EQ(d.windows.split(SplitId::kTest).windows.size(), 1u * 3 * 11);
}

TEST(PreparedDatasetTest, UserAndSeriesRangesAreContiguous) {
  auto prepared = PrepareDataset(testing::MakeSyntheticDataset(Spec()), Config());
  ASSERT_TRUE(prepared.ok());
  const SplitWindows& train = (*prepared)->windows.split(SplitId::kTrain);
  ASSERT_EQ(train.users.size(), 4u);
  for (size_t slot = 0; slot < train.users.size(); ++slot) {
    for (int64_t i = train.user_ranges[slot].begin; i < train.user_ranges[slot].end; ++i) {
      EXPECT_EQ((*prepared)->data.series[train.windows[i].series].user, train.users[slot]);
      EXPECT_EQ(train.window_user_slot[i], static_cast<int>(slot));
    }
  }
  for (size_t slot = 0; slot < train.series.size(); ++slot) {
    for (int64_t i = train.series_ranges[slot].begin; i < train.series_ranges[slot].end; ++i) {
      EXPECT_EQ(train.windows[i].series, train.series[slot]);
    }
  }
}

TEST(PreparedDatasetTest, WindowLongerThanEverySessionIsAnError) {
  PreprocessConfig config = Config();
  config.window_length = 201;
  auto prepared = PrepareDataset(testing::MakeSyntheticDataset(Spec()), config);
  ASSERT_FALSE(prepared.ok());
  EXPECT_THAT(prepared.status().message(), HasSubstr("longer than every session"));
  EXPECT_THAT(prepared.status().message(), HasSubstr("200 rows"));
}

TEST(PreparedDatasetTest, RejectsNonPositiveWindowAndStride) {
  PreprocessConfig config = Config();
  config.window_stride = 0;
  EXPECT_FALSE(PrepareDataset(testing::MakeSyntheticDataset(Spec()), config).ok());
  config = Config();
  config.window_length = -1;
  EXPECT_FALSE(PrepareDataset(testing::MakeSyntheticDataset(Spec()), config).ok());
}

TEST(PreparedDatasetTest, FingerprintTracksDataAndConfig) {
  auto base = PrepareDataset(testing::MakeSyntheticDataset(Spec()), Config());
  auto same = PrepareDataset(testing::MakeSyntheticDataset(Spec()), Config());
  Dataset changed = testing::MakeSyntheticDataset(Spec());
  changed.series[3].values[7] += 0.5f;
  auto other_data = PrepareDataset(changed, Config());
  PreprocessConfig stride = Config();
  stride.window_stride = 8;
  auto other_config = PrepareDataset(testing::MakeSyntheticDataset(Spec()), stride);
  ASSERT_TRUE(base.ok() && same.ok() && other_data.ok() && other_config.ok());
  EXPECT_EQ((*base)->fingerprint, (*same)->fingerprint);
  EXPECT_NE((*base)->fingerprint, (*other_data)->fingerprint);
  EXPECT_NE((*base)->fingerprint, (*other_config)->fingerprint);
  EXPECT_EQ(FingerprintHex(0x1234).size(), 16u);
}

}  // namespace
}  // namespace tripletstream
