#include "common/window_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace tripletstream {
namespace {

struct SeriesSpec {
  int32_t user;
  int32_t session;
  int rows;
};

// A dataset with `channels` channels and one series per spec, in the given
// order (callers list them sorted by (user, session), as Dataset requires).
Dataset MakeDataset(int channels, const std::vector<SeriesSpec>& specs) {
  Dataset dataset;
  for (int c = 0; c < channels; ++c) dataset.channel_names.push_back(absl::StrCat("c", c));
  int32_t users = 0;
  int32_t sessions = 0;
  for (const SeriesSpec& spec : specs) {
    users = std::max(users, spec.user + 1);
    sessions = std::max(sessions, spec.session + 1);
    Series series;
    series.user = spec.user;
    series.session = spec.session;
    series.values.assign(static_cast<size_t>(spec.rows) * channels, 0.0f);
    dataset.series.push_back(std::move(series));
  }
  for (int32_t u = 0; u < users; ++u) dataset.user_names.push_back(absl::StrCat("user_", u));
  for (int32_t s = 0; s < sessions; ++s) {
    dataset.session_names.push_back(absl::StrCat("session_", s));
  }
  return dataset;
}

std::vector<std::pair<int32_t, int32_t>> Pairs(const std::vector<WindowRef>& windows) {
  std::vector<std::pair<int32_t, int32_t>> out;
  for (const WindowRef& w : windows) out.emplace_back(w.series, w.offset);
  return out;
}

std::vector<std::pair<int64_t, int64_t>> Pairs(const std::vector<Range>& ranges) {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (const Range& r : ranges) out.emplace_back(r.begin, r.end);
  return out;
}

using P = std::vector<std::pair<int32_t, int32_t>>;
using R = std::vector<std::pair<int64_t, int64_t>>;

constexpr SplitId kTrain = SplitId::kTrain;
constexpr SplitId kVal = SplitId::kVal;
constexpr SplitId kTest = SplitId::kTest;
constexpr SplitId kHoldout = SplitId::kHoldout;

TEST(WindowIndexTest, CutsStridedWindowsThatEndInsideTheSeries) {
  // 10 rows, length 4, stride 3: offsets 0, 3, 6 (6 + 4 = 10 fits).
  // 11 rows: still 0, 3, 6 (9 + 4 = 13 does not fit).
  Dataset dataset = MakeDataset(2, {{0, 0, 10}, {1, 0, 11}});
  WindowIndex index = WindowIndex::Build(dataset, {kTrain, kTrain}, 4, 3);
  EXPECT_EQ(index.length(), 4);
  EXPECT_EQ(index.stride(), 3);
  EXPECT_EQ(Pairs(index.split(kTrain).windows),
            (P{{0, 0}, {0, 3}, {0, 6}, {1, 0}, {1, 3}, {1, 6}}));
}

TEST(WindowIndexTest, StrideLongerThanTheWindowLeavesGaps) {
  Dataset dataset = MakeDataset(1, {{0, 0, 12}});
  WindowIndex index = WindowIndex::Build(dataset, {kTrain}, 2, 5);
  EXPECT_EQ(Pairs(index.split(kTrain).windows), (P{{0, 0}, {0, 5}, {0, 10}}));
}

TEST(WindowIndexTest, SeriesShorterThanTheWindowHasNoWindowAndNoEntry) {
  // Series 1 (3 rows) is too short; series 2 has exactly one window.
  Dataset dataset = MakeDataset(1, {{0, 0, 5}, {0, 1, 3}, {1, 0, 4}, {2, 0, 1}});
  WindowIndex index = WindowIndex::Build(dataset, {kTrain, kTrain, kTrain, kTrain}, 4, 2);
  const SplitWindows& train = index.split(kTrain);
  EXPECT_EQ(Pairs(train.windows), (P{{0, 0}, {2, 0}}));
  EXPECT_EQ(train.series, (std::vector<int32_t>{0, 2}));
  EXPECT_EQ(Pairs(train.series_ranges), (R{{0, 1}, {1, 2}}));
  // User 2's only series is too short: the user has no entry at all.
  EXPECT_EQ(train.users, (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(Pairs(train.user_ranges), (R{{0, 1}, {1, 2}}));
  EXPECT_EQ(train.sessions(), 2);
}

TEST(WindowIndexTest, WindowsGoToTheirSeriesSplitWithUserAndSeriesRanges) {
  // Length 4, stride 3.
  Dataset dataset = MakeDataset(1, {
                                       {0, 0, 10},  // 0: train, offsets 0 3 6
                                       {0, 1, 3},   // 1: train, too short
                                       {1, 0, 4},   // 2: train, offset 0
                                       {1, 1, 7},   // 3: holdout, offsets 0 3
                                       {2, 0, 2},   // 4: test, too short
                                       {2, 1, 8},   // 5: test, offsets 0 3
                                   });
  WindowIndex index = WindowIndex::Build(
      dataset, {kTrain, kTrain, kTrain, kHoldout, kTest, kTest}, 4, 3);

  const SplitWindows& train = index.split(kTrain);
  EXPECT_EQ(Pairs(train.windows), (P{{0, 0}, {0, 3}, {0, 6}, {2, 0}}));
  EXPECT_EQ(train.users, (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(Pairs(train.user_ranges), (R{{0, 3}, {3, 4}}));
  EXPECT_EQ(train.window_user_slot, (std::vector<int32_t>{0, 0, 0, 1}));
  EXPECT_EQ(train.series, (std::vector<int32_t>{0, 2}));
  EXPECT_EQ(Pairs(train.series_ranges), (R{{0, 3}, {3, 4}}));
  EXPECT_EQ(train.window_series_slot, (std::vector<int32_t>{0, 0, 0, 1}));
  EXPECT_EQ(train.sessions(), 2);

  const SplitWindows& holdout = index.split(kHoldout);
  EXPECT_EQ(Pairs(holdout.windows), (P{{3, 0}, {3, 3}}));
  EXPECT_EQ(holdout.users, (std::vector<int32_t>{1}));
  EXPECT_EQ(Pairs(holdout.user_ranges), (R{{0, 2}}));
  EXPECT_EQ(holdout.series, (std::vector<int32_t>{3}));
  EXPECT_EQ(holdout.window_user_slot, (std::vector<int32_t>{0, 0}));
  EXPECT_EQ(holdout.window_series_slot, (std::vector<int32_t>{0, 0}));

  const SplitWindows& test = index.split(kTest);
  EXPECT_EQ(Pairs(test.windows), (P{{5, 0}, {5, 3}}));
  EXPECT_EQ(test.users, (std::vector<int32_t>{2}));
  EXPECT_EQ(test.series, (std::vector<int32_t>{5}));
  EXPECT_EQ(Pairs(test.series_ranges), (R{{0, 2}}));

  const SplitWindows& val = index.split(kVal);
  EXPECT_TRUE(val.windows.empty());
  EXPECT_TRUE(val.users.empty());
  EXPECT_TRUE(val.user_ranges.empty());
  EXPECT_TRUE(val.series.empty());
  EXPECT_TRUE(val.series_ranges.empty());
  EXPECT_EQ(val.sessions(), 0);

  EXPECT_EQ(index.total_windows(), 8);
}

TEST(WindowIndexTest, UserWithSessionsInTwoSplitsIsContiguousInEach) {
  // User 0's middle session is held out: in train its two other sessions
  // still form one user range, and the user appears in holdout as well.
  Dataset dataset = MakeDataset(1, {{0, 0, 6}, {0, 1, 6}, {0, 2, 8}, {1, 0, 6}});
  WindowIndex index =
      WindowIndex::Build(dataset, {kTrain, kHoldout, kTrain, kTrain}, 4, 2);
  const SplitWindows& train = index.split(kTrain);
  // Offsets: 6 rows -> 0 2; 8 rows -> 0 2 4.
  EXPECT_EQ(Pairs(train.windows), (P{{0, 0}, {0, 2}, {2, 0}, {2, 2}, {2, 4}, {3, 0}, {3, 2}}));
  EXPECT_EQ(train.users, (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(Pairs(train.user_ranges), (R{{0, 5}, {5, 7}}));
  EXPECT_EQ(train.series, (std::vector<int32_t>{0, 2, 3}));
  EXPECT_EQ(Pairs(train.series_ranges), (R{{0, 2}, {2, 5}, {5, 7}}));
  EXPECT_EQ(train.window_series_slot, (std::vector<int32_t>{0, 0, 1, 1, 1, 2, 2}));
  EXPECT_EQ(train.window_user_slot, (std::vector<int32_t>{0, 0, 0, 0, 0, 1, 1}));
  const SplitWindows& holdout = index.split(kHoldout);
  EXPECT_EQ(holdout.users, (std::vector<int32_t>{0}));
  EXPECT_EQ(Pairs(holdout.windows), (P{{1, 0}, {1, 2}}));
}

TEST(WindowIndexTest, RangesAndSlotsAgreeOnEveryWindow) {
  // A larger, irregular layout: 5 users x 4 sessions, lengths 5..40 rows,
  // 3 channels, splits by a fixed pattern.
  std::vector<SeriesSpec> specs;
  std::vector<SplitId> splits;
  const SplitId pattern[] = {kTrain, kTrain, kVal, kHoldout, kTest, kTrain, kTest};
  for (int32_t u = 0; u < 5; ++u) {
    for (int32_t s = 0; s < 4; ++s) {
      const int n = static_cast<int>(specs.size());
      specs.push_back({u, s, 5 + (n * 7) % 36});
      splits.push_back(pattern[n % 7]);
    }
  }
  Dataset dataset = MakeDataset(3, specs);
  WindowIndex index = WindowIndex::Build(dataset, splits, 9, 4);
  int64_t total = 0;
  for (int i = 0; i < kNumSplits; ++i) {
    const SplitId id = static_cast<SplitId>(i);
    const SplitWindows& split = index.split(id);
    SCOPED_TRACE(SplitName(id));
    ASSERT_EQ(split.window_user_slot.size(), split.windows.size());
    ASSERT_EQ(split.window_series_slot.size(), split.windows.size());
    ASSERT_EQ(split.user_ranges.size(), split.users.size());
    ASSERT_EQ(split.series_ranges.size(), split.series.size());
    // Users ascending, their ranges tile the windows in order.
    int64_t at = 0;
    for (size_t slot = 0; slot < split.users.size(); ++slot) {
      if (slot > 0) {
        EXPECT_LT(split.users[slot - 1], split.users[slot]);
      }
      EXPECT_EQ(split.user_ranges[slot].begin, at);
      EXPECT_GT(split.user_ranges[slot].size(), 0);
      for (int64_t w = split.user_ranges[slot].begin; w < split.user_ranges[slot].end; ++w) {
        EXPECT_EQ(dataset.series[split.windows[w].series].user, split.users[slot]);
        EXPECT_EQ(split.window_user_slot[w], static_cast<int32_t>(slot));
      }
      at = split.user_ranges[slot].end;
    }
    EXPECT_EQ(at, static_cast<int64_t>(split.windows.size()));
    // Series ascending, their ranges tile the windows in order, and every
    // window lies inside its series and belongs to this split.
    at = 0;
    for (size_t slot = 0; slot < split.series.size(); ++slot) {
      if (slot > 0) {
        EXPECT_LT(split.series[slot - 1], split.series[slot]);
      }
      EXPECT_EQ(splits[split.series[slot]], id);
      EXPECT_EQ(split.series_ranges[slot].begin, at);
      EXPECT_GT(split.series_ranges[slot].size(), 0);
      int32_t expected_offset = 0;
      for (int64_t w = split.series_ranges[slot].begin; w < split.series_ranges[slot].end;
           ++w) {
        const WindowRef& ref = split.windows[w];
        EXPECT_EQ(ref.series, split.series[slot]);
        EXPECT_EQ(ref.offset, expected_offset);
        EXPECT_LE(ref.offset + 9, dataset.series[ref.series].rows(3));
        EXPECT_EQ(split.window_series_slot[w], static_cast<int32_t>(slot));
        expected_offset += 4;
      }
      // No further window would fit.
      EXPECT_GT(expected_offset + 9, dataset.series[split.series[slot]].rows(3));
      at = split.series_ranges[slot].end;
    }
    EXPECT_EQ(at, static_cast<int64_t>(split.windows.size()));
    total += static_cast<int64_t>(split.windows.size());
  }
  // Every series long enough has its windows somewhere: (rows - 9) / 4 + 1.
  int64_t expected_total = 0;
  for (const SeriesSpec& spec : specs) {
    if (spec.rows >= 9) expected_total += (spec.rows - 9) / 4 + 1;
  }
  EXPECT_EQ(index.total_windows(), expected_total);
  EXPECT_EQ(total, expected_total);
}

TEST(WindowIndexTest, DefaultAndEmptyIndexesHaveNoWindows) {
  WindowIndex empty;
  EXPECT_EQ(empty.total_windows(), 0);
  Dataset dataset = MakeDataset(2, {{0, 0, 3}, {1, 0, 2}});
  WindowIndex index = WindowIndex::Build(dataset, {kTrain, kTest}, 4, 1);
  EXPECT_EQ(index.total_windows(), 0);
  for (int i = 0; i < kNumSplits; ++i) {
    EXPECT_EQ(index.split(static_cast<SplitId>(i)).sessions(), 0);
    EXPECT_TRUE(index.split(static_cast<SplitId>(i)).users.empty());
  }
}

}  // namespace
}  // namespace tripletstream
