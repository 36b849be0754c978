#include "common/dataset_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "tests/testing/synthetic_data.h"
#include "tests/testing/temp_dir.h"

namespace tripletstream {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

LoaderConfig Config(const std::string& root) {
  LoaderConfig config;
  config.root = root;
  config.threads = 2;
  return config;
}

TEST(DatasetLoaderTest, UserFoldersLayout) {
  testing::TempDir dir;
  dir.WriteFile("bob/day1/a.csv", "x,y\n1,2\n3,4\n");
  dir.WriteFile("alice/s.csv", "x,y\n5,6\n");
  dir.WriteFile("alice/notes.txt", "ignored");
  auto loaded = LoadDataset(Config(dir.path()));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const Dataset& d = loaded->dataset;
  EXPECT_THAT(d.user_names, ElementsAre("alice", "bob"));
  EXPECT_THAT(d.session_names, ElementsAre("alice/s.csv", "bob/day1/a.csv"));
  EXPECT_THAT(d.channel_names, ElementsAre("x", "y"));
  ASSERT_EQ(d.series.size(), 2u);
  EXPECT_EQ(d.series[0].user, 0);
  EXPECT_THAT(d.series[0].values, ElementsAre(5, 6));
  EXPECT_THAT(d.series[1].values, ElementsAre(1, 2, 3, 4));
  EXPECT_EQ(loaded->stats.files_found, 2);
  EXPECT_EQ(loaded->stats.files_loaded, 2);
  EXPECT_EQ(loaded->stats.rows_kept, 3);
}

TEST(DatasetLoaderTest, RegexLayoutWithSessionGroupAndNaturalOrder) {
  testing::TempDir dir;
  for (const char* session : {"wlk_7", "jog_9"}) {
    for (int user : {2, 10, 1}) {
      dir.WriteFile(std::string("data/") + session + "/sub_" + std::to_string(user) + ".csv",
                    ",a,b\n0,1," + std::to_string(user) + "\n");
    }
  }
  dir.WriteFile("data/info.csv", "code,w\n1,2\n");  // Does not match: ignored.
  LoaderConfig config = Config(dir.path());
  config.path_regex = R"(data/(?P<session>[^/]+)/sub_(?P<user>\d+)\.csv)";
  auto loaded = LoadDataset(config);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const Dataset& d = loaded->dataset;
  EXPECT_THAT(d.user_names, ElementsAre("1", "2", "10"));
  EXPECT_THAT(d.session_names, ElementsAre("jog_9", "wlk_7"));
  EXPECT_THAT(d.channel_names, ElementsAre("a", "b"));
  ASSERT_EQ(d.series.size(), 6u);
  EXPECT_EQ(d.series[4].user, 2);  // "10"
  EXPECT_THAT(d.series[4].values, ElementsAre(1, 10));
  EXPECT_EQ(loaded->stats.files_skipped, 1);
  ASSERT_EQ(loaded->skipped_files.size(), 1u);
  EXPECT_THAT(loaded->skipped_files[0], HasSubstr("data/info.csv"));
}

TEST(DatasetLoaderTest, UserColumnLayoutAcrossFiles) {
  testing::TempDir dir;
  dir.WriteFile("part1.csv", "subject,activity,x\n1,walk,1\n2,walk,2\n");
  dir.WriteFile("part2.csv", "subject,activity,x\n1,walk,3\n1,run,4\n");
  LoaderConfig config = Config(dir.path());
  config.csv.user_column = *ParseColumnRef("subject");
  config.csv.session_column = *ParseColumnRef("activity");
  auto loaded = LoadDataset(config);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const Dataset& d = loaded->dataset;
  EXPECT_THAT(d.user_names, ElementsAre("1", "2"));
  EXPECT_THAT(d.session_names, ElementsAre("run", "walk"));
  EXPECT_THAT(d.channel_names, ElementsAre("x"));
  ASSERT_EQ(d.series.size(), 3u);
  // User 1 walk: rows from both files, in path order.
  EXPECT_THAT(d.series[1].values, ElementsAre(1, 3));
  EXPECT_THAT(d.series[0].values, ElementsAre(4));
}

TEST(DatasetLoaderTest, ResultDoesNotDependOnThreadCount) {
  testing::TempDir dir;
  testing::SyntheticSpec spec;
  spec.users = 5;
  spec.sessions_per_user = 4;
  spec.rows_per_session = 50;
  testing::WriteSyntheticUsers(dir.path(), spec);
  LoaderConfig one = Config(dir.path());
  one.threads = 1;
  LoaderConfig four = Config(dir.path());
  four.threads = 4;
  auto a = LoadDataset(one);
  auto b = LoadDataset(four);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->dataset.user_names, b->dataset.user_names);
  EXPECT_EQ(a->dataset.session_names, b->dataset.session_names);
  ASSERT_EQ(a->dataset.series.size(), 20u);
  for (size_t s = 0; s < 20; ++s) {
    EXPECT_EQ(a->dataset.series[s].values, b->dataset.series[s].values);
    EXPECT_EQ(a->dataset.series[s].user, b->dataset.series[s].user);
  }
}

TEST(DatasetLoaderTest, BadFilesAreSkippedAndReported) {
  testing::TempDir dir;
  dir.WriteFile("alice/good.csv", "x\n1\n2\nbad\n");
  dir.WriteFile("alice/empty.csv", "");
  dir.WriteFile("bob/good.csv", "x\n3\n");
  auto loaded = LoadDataset(Config(dir.path()));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->stats.files_loaded, 2);
  EXPECT_EQ(loaded->stats.files_skipped, 1);
  EXPECT_EQ(loaded->stats.rows_skipped, 1);
  ASSERT_EQ(loaded->skipped_rows.size(), 1u);
  EXPECT_THAT(loaded->skipped_rows[0].file, HasSubstr("alice/good.csv"));
  EXPECT_EQ(loaded->skipped_rows[0].line, 4);
  ASSERT_EQ(loaded->skipped_files.size(), 1u);
  EXPECT_THAT(loaded->skipped_files[0], HasSubstr("empty.csv: empty file"));

  const std::string report = dir.path() + "/report.txt";
  ASSERT_TRUE(WriteSkipReport(*loaded, report).ok());
  std::ifstream in(report);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(text, HasSubstr("empty.csv: empty file"));
  EXPECT_THAT(text, HasSubstr("alice/good.csv:4: field 1 (x) is not a number: 'bad'"));

  LoaderConfig strict = Config(dir.path());
  strict.strict = true;
  auto failed = LoadDataset(strict);
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(failed.status().message(), HasSubstr("alice/"));
}

TEST(DatasetLoaderTest, ClearErrorsForUnusableInput) {
  testing::TempDir dir;
  auto missing = LoadDataset(Config(dir.path() + "/nope"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("/nope"));

  auto nothing = LoadDataset(Config(dir.path()));
  ASSERT_FALSE(nothing.ok());
  EXPECT_THAT(nothing.status().message(), HasSubstr("no usable rows"));

  dir.WriteFile("alice/a.csv", "x\n1\n");
  auto one_user = LoadDataset(Config(dir.path()));
  ASSERT_FALSE(one_user.ok());
  EXPECT_THAT(one_user.status().message(), HasSubstr("at least 2 users"));

  dir.WriteFile("bob/b.csv", "y\n1\n");
  auto mismatch = LoadDataset(Config(dir.path()));
  ASSERT_FALSE(mismatch.ok());
  EXPECT_THAT(mismatch.status().message(), HasSubstr("files disagree on columns"));

  LoaderConfig column = Config(dir.path());
  column.csv.columns = *ParseColumnList("x");
  auto missing_column = LoadDataset(column);
  ASSERT_FALSE(missing_column.ok());
  EXPECT_THAT(missing_column.status().message(), HasSubstr("bob/b.csv"));
  EXPECT_THAT(missing_column.status().message(), HasSubstr("'x' not found"));

  LoaderConfig regex = Config(dir.path());
  regex.path_regex = "(unclosed";
  EXPECT_THAT(LoadDataset(regex).status().message(), HasSubstr("invalid --user_regex"));
  regex.path_regex = "(?P<who>.*)";
  EXPECT_THAT(LoadDataset(regex).status().message(), HasSubstr("no (?P<user>...) group"));
}

TEST(DatasetLoaderTest, LoadsTheRealMotionSenseData) {
  // The full dataset lives beside the repository (../shared), not in it.
  const char* env = std::getenv("TS_MOTIONSENSE");
  const char* testdata = std::getenv("TS_TESTDATA");
  const std::string path =
      env != nullptr ? env
      : testdata != nullptr ? std::string(testdata) + "/../../shared/data/motionsense"
                            : "";
  if (path.empty() || !std::filesystem::is_directory(path)) {
    GTEST_SKIP() << "MotionSense not found beside the repository; set TS_MOTIONSENSE";
  }
  LoaderConfig config = Config(path);
  config.path_regex = R"(A_DeviceMotion_data/(?P<session>[^/]+)/sub_(?P<user>\d+)\.csv)";
  auto loaded = LoadDataset(config);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->dataset.user_names.size(), 24u);
  EXPECT_EQ(loaded->dataset.session_names.size(), 15u);
  EXPECT_EQ(loaded->dataset.channels(), 12);
  EXPECT_EQ(loaded->stats.rows_kept, 1412865);
  EXPECT_EQ(loaded->stats.rows_skipped, 0);
}

TEST(DatasetLoaderTest, LoadsTheBundledSample) {
  const char* testdata = std::getenv("TS_TESTDATA");
  ASSERT_NE(testdata, nullptr) << "CTest sets TS_TESTDATA";
  LoaderConfig config = Config(std::string(testdata) + "/motionsense_sample");
  config.path_regex = R"(A_DeviceMotion_data/(?P<session>[^/]+)/sub_(?P<user>\d+)\.csv)";
  auto loaded = LoadDataset(config);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_GE(loaded->dataset.user_names.size(), 4u);
  EXPECT_EQ(loaded->dataset.channels(), 12);
  EXPECT_EQ(loaded->stats.rows_skipped, 0);
}

}  // namespace
}  // namespace tripletstream
