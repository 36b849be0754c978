#include "trainer/session_groups.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tripletstream {
namespace {

using ::testing::ElementsAre;
using Groups = std::vector<std::string>;

const std::vector<std::string> kSessions = {"wlk_7", "sit_5", "jog_16", "misc"};

TEST(SessionGroupsTest, CaptureNamesTheGroupAndUnmatchedSessionsAreOther) {
  auto groups = SessionGroups("([a-z]+)_[0-9]+", kSessions);
  ASSERT_TRUE(groups.ok()) << groups.status();
  EXPECT_THAT(*groups, ElementsAre(Groups{"wlk"}, Groups{"sit"}, Groups{"jog"}, Groups{"other"}));
}

TEST(SessionGroupsTest, NamedEntriesAddGroupsOnlyToMatchingSessions) {
  auto groups = SessionGroups("([a-z]+)_.*;moving=(wlk|jog|ups|dws)_.*", kSessions);
  ASSERT_TRUE(groups.ok()) << groups.status();
  EXPECT_THAT(*groups, ElementsAre(Groups{"wlk", "moving"}, Groups{"sit"},
                                   Groups{"jog", "moving"}, Groups{"other"}));
}

TEST(SessionGroupsTest, EmptySpecGivesNoGroups) {
  auto groups = SessionGroups("", kSessions);
  ASSERT_TRUE(groups.ok());
  EXPECT_THAT(*groups, ElementsAre(Groups{}, Groups{}, Groups{}, Groups{}));
}

TEST(SessionGroupsTest, BadEntriesAreNamedInTheError) {
  auto no_capture = SessionGroups("([a-z]+)_.*;[a-z]+_.*", kSessions);
  EXPECT_EQ(no_capture.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(no_capture.status().message()), ::testing::HasSubstr("'[a-z]+_.*'"));
  auto invalid = SessionGroups("moving=(wlk", kSessions);
  EXPECT_EQ(invalid.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(invalid.status().message()), ::testing::HasSubstr("moving=(wlk"));
}

}  // namespace
}  // namespace tripletstream
