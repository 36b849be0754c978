#include "common/split.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/testing/synthetic_data.h"

namespace tripletstream {
namespace {

using ::testing::HasSubstr;

Dataset Users(int n, int sessions = 2) {
  testing::SyntheticSpec spec;
  spec.users = n;
  spec.sessions_per_user = sessions;
  spec.rows_per_session = 4;
  return testing::MakeSyntheticDataset(spec);
}

int Count(const std::vector<SplitId>& v, SplitId id) {
  return static_cast<int>(std::count(v.begin(), v.end(), id));
}

TEST(SplitTest, FractionsCutUsersDeterministically) {
  Dataset d = Users(20);
  SplitConfig config;  // 0.7 / 0.1 / 0.2
  auto a = AssignSplits(d, config);
  auto b = AssignSplits(d, config);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->user_split, b->user_split);
  EXPECT_EQ(Count(a->user_split, SplitId::kTrain), 14);
  EXPECT_EQ(Count(a->user_split, SplitId::kVal), 2);
  EXPECT_EQ(Count(a->user_split, SplitId::kTest), 4);
  // Every series follows its user.
  for (size_t s = 0; s < d.series.size(); ++s) {
    EXPECT_EQ(a->series_split[s], a->user_split[d.series[s].user]);
  }
}

TEST(SplitTest, SeedChangesTheAssignment) {
  Dataset d = Users(20);
  SplitConfig one, two;
  two.seed = 2;
  EXPECT_NE(AssignSplits(d, one)->user_split, AssignSplits(d, two)->user_split);
}

TEST(SplitTest, RegexesForceUsersIntoTestAndVal) {
  Dataset d = Users(6);
  SplitConfig config;
  config.test_user_regex = "user_[45]";
  config.val_user_regex = "user_3";
  auto a = AssignSplits(d, config);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->user_split,
            (std::vector<SplitId>{SplitId::kTrain, SplitId::kTrain, SplitId::kTrain,
                                  SplitId::kVal, SplitId::kTest, SplitId::kTest}));
}

TEST(SplitTest, HoldoutSessionsOfTrainingUsers) {
  Dataset d = Users(4, 3);
  SplitConfig config;
  config.test_user_regex = "user_3";
  config.holdout_session_regex = "session_2";
  auto a = AssignSplits(d, config);
  ASSERT_TRUE(a.ok()) << a.status();
  for (size_t s = 0; s < d.series.size(); ++s) {
    const Series& series = d.series[s];
    SplitId expected = series.user == 3 ? SplitId::kTest
                       : series.session == 2 ? SplitId::kHoldout
                                             : SplitId::kTrain;
    EXPECT_EQ(a->series_split[s], expected) << "series " << s;
  }
}

TEST(SplitTest, KeepsTwoTrainingUsersWhenFractionsWouldStarveIt) {
  Dataset d = Users(3);
  SplitConfig config;
  config.train_fraction = 0.1;
  config.val_fraction = 0.45;
  config.test_fraction = 0.45;
  auto a = AssignSplits(d, config);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(Count(a->user_split, SplitId::kTrain), 2);
}

TEST(SplitTest, FewerThanTwoTrainingUsersIsAnError) {
  Dataset d = Users(3);
  SplitConfig config;
  config.test_user_regex = "user_[12]";
  auto a = AssignSplits(d, config);
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(a.status().message(), HasSubstr("at least 2 training users"));
}

TEST(SplitTest, BadRegexIsNamed) {
  Dataset d = Users(3);
  SplitConfig config;
  config.holdout_session_regex = "(unclosed";
  auto a = AssignSplits(d, config);
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(a.status().message(), HasSubstr("holdout session regex"));
}

TEST(SplitTest, ParsesFractions) {
  SplitConfig config;
  ASSERT_TRUE(ParseSplitFractions("0.8,0,0.2", &config).ok());
  EXPECT_DOUBLE_EQ(config.train_fraction, 0.8);
  EXPECT_DOUBLE_EQ(config.val_fraction, 0.0);
  EXPECT_FALSE(ParseSplitFractions("0.8,0.2", &config).ok());
  EXPECT_FALSE(ParseSplitFractions("a,b,c", &config).ok());
  EXPECT_FALSE(ParseSplitFractions("0,0.5,0.5", &config).ok());
  EXPECT_FALSE(ParseSplitFractions("1.5,0,0", &config).ok());
  // Fractions that do not sum to 1 are a mistake, not something to rescale.
  absl::Status off = ParseSplitFractions("0.7,0.1,0.3", &config);
  EXPECT_EQ(off.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(off.message().find("sum to 1"), absl::string_view::npos) << off;
  EXPECT_TRUE(ParseSplitFractions("0.6,0.2,0.2", &config).ok());
}

}  // namespace
}  // namespace tripletstream
