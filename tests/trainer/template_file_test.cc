#include "trainer/template_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "tests/testing/temp_dir.h"

namespace tripletstream {
namespace {

using ::testing::HasSubstr;

constexpr char kFingerprint[] = "00112233aabbccdd";
constexpr char kModel[] = "tcn channels=8 levels=2";

TEST(TemplateFileTest, GroupsAreAddedToOneFileAndReadBack) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/alice.tpl";
  ASSERT_TRUE(EnrollTemplate(path, "alice", kFingerprint, kModel, "", {0.6f, 0.8f}).ok());
  ASSERT_TRUE(EnrollTemplate(path, "alice", kFingerprint, kModel, "walking", {1, 0}).ok());
  ASSERT_TRUE(EnrollTemplate(path, "alice", kFingerprint, kModel, "jogging", {0, 1}).ok());
  // Enrolling a group again replaces it.
  ASSERT_TRUE(EnrollTemplate(path, "alice", kFingerprint, kModel, "walking", {0.8f, 0.6f}).ok());
  auto t = ReadTemplate(path);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->user, "alice");
  EXPECT_EQ(t->fingerprint, kFingerprint);
  EXPECT_EQ(t->model_config, kModel);
  ASSERT_EQ(t->groups.size(), 3u);
  auto pooled = t->For("");
  ASSERT_TRUE(pooled.ok());
  EXPECT_EQ(**pooled, (std::vector<float>{0.6f, 0.8f}));
  auto walking = t->For("walking");
  ASSERT_TRUE(walking.ok());
  EXPECT_EQ(**walking, (std::vector<float>{0.8f, 0.6f}));
  auto missing = t->For("cycling");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("jogging"));
  EXPECT_THAT(missing.status().message(), HasSubstr("walking"));
}

TEST(TemplateFileTest, AnotherUserOrCheckpointIsRefused) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/alice.tpl";
  ASSERT_TRUE(EnrollTemplate(path, "alice", kFingerprint, kModel, "walking", {1, 0}).ok());
  absl::Status other_user = EnrollTemplate(path, "bob", kFingerprint, kModel, "walking", {1, 0});
  EXPECT_EQ(other_user.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(other_user.message(), HasSubstr("alice"));
  absl::Status other_model =
      EnrollTemplate(path, "alice", kFingerprint, "tcn channels=16", "jogging", {1, 0});
  EXPECT_EQ(other_model.code(), absl::StatusCode::kFailedPrecondition);
  absl::Status other_size = EnrollTemplate(path, "alice", kFingerprint, kModel, "x", {1, 0, 0});
  EXPECT_EQ(other_size.code(), absl::StatusCode::kFailedPrecondition);
  // The file is unchanged by the refusals; a pooled template was never
  // enrolled.
  auto t = ReadTemplate(path);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->groups.size(), 1u);
  EXPECT_THAT(t->For("").status().message(), HasSubstr("walking"));
}

TEST(TemplateFileTest, BadNamesAndBadFilesAreClearErrors) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/t.tpl";
  EXPECT_EQ(EnrollTemplate(path, "two words", kFingerprint, kModel, "", {1}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(EnrollTemplate(path, "alice", kFingerprint, kModel, "a group", {1}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadTemplate(dir.path() + "/none.tpl").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_FALSE(ReadTemplate(dir.WriteFile("bad.txt", "hello\n")).ok());
  auto not_a_number = ReadTemplate(dir.WriteFile(
      "nan.tpl", std::string("tripletstream-template v2 a f m\n* 1 x\n")));
  ASSERT_FALSE(not_a_number.ok());
  EXPECT_THAT(not_a_number.status().message(), HasSubstr("nan.tpl:2"));
  auto ragged = ReadTemplate(dir.WriteFile(
      "ragged.tpl", std::string("tripletstream-template v2 a f m\n* 1 2\nw 1\n")));
  ASSERT_FALSE(ragged.ok());
  EXPECT_THAT(ragged.status().message(), HasSubstr("ragged.tpl:3"));
  auto twice = ReadTemplate(dir.WriteFile(
      "twice.tpl", std::string("tripletstream-template v2 a f m\nw 1\nw 2\n")));
  EXPECT_FALSE(twice.ok());
}

TEST(TemplateFileTest, VersionOneFilesAreReadAsAPooledTemplate) {
  testing::TempDir dir;
  const std::string path = dir.WriteFile(
      "old.tpl", std::string("tripletstream-template v1 alice ") + kFingerprint + " " + kModel +
                     "\n0.6 0.8\n");
  auto t = ReadTemplate(path);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->user, "alice");
  EXPECT_EQ(t->model_config, kModel);
  auto pooled = t->For("");
  ASSERT_TRUE(pooled.ok());
  EXPECT_EQ(**pooled, (std::vector<float>{0.6f, 0.8f}));
  // Enrolling a group into it upgrades the file and keeps the pooled one.
  ASSERT_TRUE(EnrollTemplate(path, "alice", kFingerprint, kModel, "walking", {1, 0}).ok());
  auto upgraded = ReadTemplate(path);
  ASSERT_TRUE(upgraded.ok());
  EXPECT_EQ(upgraded->groups.size(), 2u);
}

}  // namespace
}  // namespace tripletstream
