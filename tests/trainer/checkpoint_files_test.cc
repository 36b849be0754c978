#include "trainer/checkpoint_files.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/testing/temp_dir.h"

namespace tripletstream {
namespace {

using ::testing::HasSubstr;

class CheckpointFilesTest : public ::testing::Test {
 protected:
  // Commits a checkpoint whose bytes are `contents`.
  void Commit(const std::string& contents) {
    dir_.WriteFile("checkpoint.pt.tmp", contents);
    ASSERT_TRUE(CommitCheckpointFile(path_ + ".tmp", path_).ok());
  }
  static void FlipByte(const std::string& path, std::streamoff at) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(at);
    char c = 0;
    f.get(c);
    f.seekp(at);
    f.put(static_cast<char>(c ^ 0x10));
  }
  testing::TempDir dir_;
  const std::string path_ = dir_.path() + "/checkpoint.pt";
  const std::string prev_ = dir_.path() + "/checkpoint.prev.pt";
};

TEST_F(CheckpointFilesTest, PreviousPathKeepsTheExtension) {
  EXPECT_EQ(PreviousCheckpointPath("/a/b/checkpoint.pt"), "/a/b/checkpoint.prev.pt");
}

TEST_F(CheckpointFilesTest, CommittedCheckpointVerifiesAndKeepsThePreviousOne) {
  Commit("first checkpoint");
  EXPECT_TRUE(VerifyCheckpointFile(path_).ok());
  EXPECT_FALSE(std::filesystem::exists(prev_));
  Commit("second checkpoint");
  EXPECT_TRUE(VerifyCheckpointFile(path_).ok());
  EXPECT_TRUE(VerifyCheckpointFile(prev_).ok());
  EXPECT_EQ(*VerifiedCheckpointPath(path_), path_);
}

TEST_F(CheckpointFilesTest, DamagedBytesAreFoundAndThePreviousCheckpointIsUsed) {
  Commit("first checkpoint");
  Commit("second checkpoint");
  FlipByte(path_, 5);
  EXPECT_EQ(VerifyCheckpointFile(path_).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(*VerifiedCheckpointPath(path_), prev_);
  // A damaged latest checkpoint is not kept as the previous one.
  Commit("third checkpoint");
  EXPECT_TRUE(VerifyCheckpointFile(path_).ok());
  EXPECT_TRUE(VerifyCheckpointFile(prev_).ok());
}

TEST_F(CheckpointFilesTest, NoIntactCheckpointIsAFailedPrecondition) {
  Commit("first checkpoint");
  Commit("second checkpoint");
  FlipByte(path_, 3);
  FlipByte(prev_, 3);
  auto verified = VerifiedCheckpointPath(path_);
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(verified.status().message(), HasSubstr("damaged"));
}

TEST_F(CheckpointFilesTest, ACrashBeforeTheLastRenameFallsBackToThePreviousCheckpoint) {
  Commit("first checkpoint");
  Commit("second checkpoint");
  // As if the process died after rotating and writing the new digest but
  // before renaming the new checkpoint into place.
  std::filesystem::rename(path_, prev_);
  std::filesystem::rename(path_ + ".digest", prev_ + ".digest");
  dir_.WriteFile("checkpoint.pt.digest",
                 "tripletstream-checkpoint-digest v1 0123456789abcdef 99\n");
  EXPECT_EQ(*VerifiedCheckpointPath(path_), prev_);
}

TEST_F(CheckpointFilesTest, CheckpointsWithoutADigestFileStillLoad) {
  dir_.WriteFile("checkpoint.pt", "written by an older version");
  EXPECT_EQ(VerifyCheckpointFile(path_).code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(*VerifiedCheckpointPath(path_), path_);
  EXPECT_EQ(VerifiedCheckpointPath(dir_.path() + "/none.pt").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace tripletstream
