#include "common/dataset_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
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

void ExpectSameDataset(const Dataset& a, const Dataset& b) {
  EXPECT_EQ(a.channel_names, b.channel_names);
  EXPECT_EQ(a.user_names, b.user_names);
  EXPECT_EQ(a.session_names, b.session_names);
  ASSERT_EQ(a.series.size(), b.series.size());
  for (size_t s = 0; s < a.series.size(); ++s) {
    EXPECT_EQ(a.series[s].user, b.series[s].user) << s;
    EXPECT_EQ(a.series[s].session, b.series[s].session) << s;
    EXPECT_EQ(a.series[s].values, b.series[s].values) << s;
  }
}

TEST(NaturalLessTest, ComparesDigitRunsByValue) {
  std::vector<std::string> names = {"sub_10", "sub_2", "10", "2", "sub_1", "a", "1",
                                    "02", "sub_10b", "sub_10a", "B"};
  std::sort(names.begin(), names.end(), NaturalLess);
  EXPECT_THAT(names, ElementsAre("1", "2", "02", "10", "B", "a", "sub_1", "sub_2",
                                 "sub_10", "sub_10a", "sub_10b"));
  EXPECT_FALSE(NaturalLess("x", "x"));
  EXPECT_TRUE(NaturalLess("x", "x1"));
  EXPECT_TRUE(NaturalLess("99999999999999999999", "100000000000000000000"));
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
  ASSERT_EQ(a->dataset.series.size(), 20u);
  ExpectSameDataset(a->dataset, b->dataset);
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

TEST(DatasetLoaderTest, UserFoldersLayoutIgnoresFilesOutsideAUserFolder) {
  testing::TempDir dir;
  dir.WriteFile("loose.csv", "x\n1\n");
  dir.WriteFile("u2/a.csv", "x\n2\n");
  dir.WriteFile("u10/a.csv", "x\n3\n");
  auto loaded = LoadDataset(Config(dir.path()));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_THAT(loaded->dataset.user_names, ElementsAre("u2", "u10"));
  EXPECT_EQ(loaded->stats.files_found, 3);
  EXPECT_EQ(loaded->stats.files_skipped, 1);
  ASSERT_EQ(loaded->skipped_files.size(), 1u);
  EXPECT_THAT(loaded->skipped_files[0], HasSubstr("loose.csv"));
}

TEST(DatasetLoaderTest, RegexWithoutSessionGroupUsesTheFilePath) {
  testing::TempDir dir;
  dir.WriteFile("walk/p1.csv", "x\n1\n");
  dir.WriteFile("run/p1.csv", "x\n2\n");
  dir.WriteFile("run/p2.csv", "x\n3\n");
  LoaderConfig config = Config(dir.path());
  config.path_regex = R"([a-z]+/(?P<user>p\d+)\.csv)";
  auto loaded = LoadDataset(config);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_THAT(loaded->dataset.user_names, ElementsAre("p1", "p2"));
  EXPECT_THAT(loaded->dataset.session_names,
              ElementsAre("run/p1.csv", "run/p2.csv", "walk/p1.csv"));
}

TEST(DatasetLoaderTest, UserColumnWithoutSessionColumnMakesEachFileASession) {
  testing::TempDir dir;
  dir.WriteFile("b.csv", "who;v\n2;1\n10;2\n2;3\n");
  dir.WriteFile("a.csv", "who;v\n10;4\n");
  LoaderConfig config = Config(dir.path());
  config.csv.user_column = *ParseColumnRef("who");
  auto loaded = LoadDataset(config);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const Dataset& d = loaded->dataset;
  EXPECT_THAT(d.user_names, ElementsAre("2", "10"));
  EXPECT_THAT(d.session_names, ElementsAre("a.csv", "b.csv"));
  EXPECT_THAT(d.channel_names, ElementsAre("v"));
  ASSERT_EQ(d.series.size(), 3u);
  EXPECT_THAT(d.series[0].values, ElementsAre(1, 3));  // "2" in b.csv
  EXPECT_THAT(d.series[1].values, ElementsAre(4));     // "10" in a.csv
  EXPECT_THAT(d.series[2].values, ElementsAre(2));     // "10" in b.csv
}

TEST(DatasetLoaderTest, UserColumnLayoutDoesNotDependOnThreadCount) {
  testing::TempDir dir;
  for (int f = 0; f < 12; ++f) {
    std::string text = "subject,activity,x,y\n";
    for (int r = 0; r < 40; ++r) {
      text += std::to_string((r * 7 + f) % 5) + ",act" + std::to_string(r % 3) + "," +
              std::to_string(f) + "," + std::to_string(r) + "\n";
    }
    dir.WriteFile("part" + std::to_string(f) + ".csv", text);
  }
  LoaderConfig config = Config(dir.path());
  config.csv.user_column = *ParseColumnRef("subject");
  config.csv.session_column = *ParseColumnRef("activity");
  config.threads = 1;
  auto one = LoadDataset(config);
  config.threads = 4;
  auto four = LoadDataset(config);
  ASSERT_TRUE(one.ok() && four.ok());
  EXPECT_EQ(one->dataset.user_names.size(), 5u);
  EXPECT_EQ(one->dataset.series.size(), 15u);
  ExpectSameDataset(one->dataset, four->dataset);
}

TEST(DatasetLoaderTest, StrictReportsTheFirstBadFileInPathOrder) {
  testing::TempDir dir;
  for (int f = 0; f < 30; ++f) {
    const bool bad = f == 13 || f == 25;  // Both in u1/, f13 first.
    dir.WriteFile(absl::StrFormat("u%d/f%02d.csv", f % 3, f), bad ? "x\n1\noops\n" : "x\n1\n2\n");
  }
  for (int threads : {1, 4, 4, 4}) {
    LoaderConfig config = Config(dir.path());
    config.strict = true;
    config.threads = threads;
    auto loaded = LoadDataset(config);
    ASSERT_FALSE(loaded.ok());
    EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(loaded.status().message(),
                HasSubstr("u1/f13.csv:3: field 1 (x) is not a number: 'oops'"));
  }
}

TEST(DatasetLoaderTest, EmptyFileFailsUnderStrict) {
  testing::TempDir dir;
  dir.WriteFile("alice/a.csv", "x\n1\n");
  dir.WriteFile("bob/b.csv", "x\n2\n");
  dir.WriteFile("bob/header_only.csv", "x\n");
  auto lenient = LoadDataset(Config(dir.path()));
  ASSERT_TRUE(lenient.ok()) << lenient.status();
  EXPECT_EQ(lenient->stats.files_skipped, 1);
  EXPECT_THAT(lenient->skipped_files, ElementsAre(HasSubstr("header_only.csv: no usable")));
  LoaderConfig strict = Config(dir.path());
  strict.strict = true;
  auto failed = LoadDataset(strict);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(failed.status().message(), HasSubstr("bob/header_only.csv"));
}

TEST(DatasetLoaderTest, UnreadableFileIsSkippedOrFailsUnderStrict) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads every file";
  testing::TempDir dir;
  dir.WriteFile("alice/a.csv", "x\n1\n");
  dir.WriteFile("bob/b.csv", "x\n2\n");
  const std::string locked = dir.WriteFile("bob/locked.csv", "x\n3\n");
  ASSERT_EQ(chmod(locked.c_str(), 0), 0);
  auto lenient = LoadDataset(Config(dir.path()));
  ASSERT_TRUE(lenient.ok()) << lenient.status();
  EXPECT_EQ(lenient->stats.files_loaded, 2);
  EXPECT_THAT(lenient->skipped_files, ElementsAre(HasSubstr("locked.csv")));
  LoaderConfig strict = Config(dir.path());
  strict.strict = true;
  auto failed = LoadDataset(strict);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kPermissionDenied);
}

TEST(DatasetLoaderTest, ErrorsNameTheRootTheSuffixAndBothMismatchedFiles) {
  testing::TempDir dir;
  const std::string file = dir.WriteFile("plain.txt", "x");
  auto not_dir = LoadDataset(Config(file));
  EXPECT_EQ(not_dir.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(not_dir.status().message(), HasSubstr(file));

  dir.WriteFile("alice/empty.csv", "");
  auto no_rows = LoadDataset(Config(dir.path()));
  ASSERT_FALSE(no_rows.ok());
  EXPECT_EQ(no_rows.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(no_rows.status().message(), HasSubstr(dir.path()));
  EXPECT_THAT(no_rows.status().message(), HasSubstr("*.csv"));

  dir.WriteFile("alice/a.csv", "x,y\n1,2\n");
  dir.WriteFile("bob/b.csv", "x,z\n1,2\n");
  auto mismatch = LoadDataset(Config(dir.path()));
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(mismatch.status().message(), HasSubstr("alice/a.csv has [x,y]"));
  EXPECT_THAT(mismatch.status().message(), HasSubstr("bob/b.csv has [x,z]"));
}

TEST(DatasetLoaderTest, SkippedRowRecordsAreCappedButCountsExact) {
  testing::TempDir dir;
  dir.WriteFile("alice/a.csv", "x\n1\n2\nbad\nbad\n");
  dir.WriteFile("bob/b.csv", "x\nbad\n2\n3\nbad\n");
  dir.WriteFile("bob/text.csv", "name\nbob\n");  // No numeric column: skipped.
  LoaderConfig config = Config(dir.path());
  config.max_skipped_records = 3;
  auto loaded = LoadDataset(config);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->stats.rows_skipped, 4);
  ASSERT_EQ(loaded->skipped_rows.size(), 3u);
  EXPECT_THAT(loaded->skipped_rows[0].file, HasSubstr("alice/a.csv"));
  EXPECT_EQ(loaded->skipped_rows[0].line, 4);
  EXPECT_EQ(loaded->skipped_rows[1].line, 5);
  EXPECT_THAT(loaded->skipped_rows[2].file, HasSubstr("bob/b.csv"));
  EXPECT_EQ(loaded->skipped_rows[2].line, 2);
  EXPECT_THAT(loaded->skipped_files,
              ElementsAre(HasSubstr("text.csv: no numeric value columns")));
}

// --- Symlinked folders ---

void Symlink(const std::string& target, const std::string& link) {
  std::filesystem::create_directory_symlink(target, link);
}

TEST(DatasetLoaderTest, SymlinkBackUpTheTreeIsNotFollowed) {
  // alice/loop -> .. used to list alice/s.csv again as alice/loop/alice/s.csv,
  // alice/loop/alice/loop/alice/s.csv, ... until ELOOP: 41 sessions.
  testing::TempDir dir;
  dir.WriteFile("alice/s.csv", "x\n1\n");
  dir.WriteFile("bob/s.csv", "x\n2\n");
  Symlink("..", dir.path() + "/alice/loop");
  auto loaded = LoadDataset(Config(dir.path()));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_THAT(loaded->dataset.session_names, ElementsAre("alice/s.csv", "bob/s.csv"));
  EXPECT_EQ(loaded->stats.files_found, 2);
  ASSERT_EQ(loaded->ignored_links.size(), 1u);
  EXPECT_THAT(loaded->ignored_links[0], HasSubstr("alice/loop -> ..: symlinked folder not "
                                                  "followed"));
  const std::string report = dir.path() + "/../report_" +
                             std::filesystem::path(dir.path()).filename().string();
  ASSERT_TRUE(WriteSkipReport(*loaded, report).ok());
  std::ifstream in(report);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove(report);
  EXPECT_THAT(text, HasSubstr("alice/loop -> .."));
}

TEST(DatasetLoaderTest, SymlinkedUserFolderIsFollowedOnce) {
  testing::TempDir dir;
  testing::TempDir elsewhere;
  dir.WriteFile("alice/s.csv", "x\n1\n");
  elsewhere.WriteFile("carol/day1/s.csv", "x\n3\n");
  Symlink(elsewhere.path() + "/carol", dir.path() + "/carol");
  // A cycle inside the linked tree, back to its own top.
  Symlink(elsewhere.path() + "/carol", elsewhere.path() + "/carol/day1/again");
  auto loaded = LoadDataset(Config(dir.path()));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_THAT(loaded->dataset.user_names, ElementsAre("alice", "carol"));
  EXPECT_THAT(loaded->dataset.session_names, ElementsAre("alice/s.csv", "carol/day1/s.csv"));
  ASSERT_EQ(loaded->ignored_links.size(), 1u);
  EXPECT_THAT(loaded->ignored_links[0], HasSubstr("carol/day1/again -> "));
}

TEST(DatasetLoaderTest, SecondPathToAListedFolderIsNotFollowed) {
  // The real folder wins over a link to it, and of two links to one folder
  // the first in name order wins, whatever order the file system lists.
  testing::TempDir dir;
  testing::TempDir elsewhere;
  dir.WriteFile("bob/s.csv", "x\n2\n");
  elsewhere.WriteFile("d/s.csv", "x\n4\n");
  Symlink("bob", dir.path() + "/alias");  // Sorts before "bob".
  Symlink(elsewhere.path() + "/d", dir.path() + "/zed");
  Symlink(elsewhere.path() + "/d", dir.path() + "/yan");
  for (int threads : {1, 3}) {
    LoaderConfig config = Config(dir.path());
    config.threads = threads;
    auto loaded = LoadDataset(config);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_THAT(loaded->dataset.user_names, ElementsAre("bob", "yan"));
    EXPECT_THAT(loaded->ignored_links,
                ElementsAre(HasSubstr("alias -> bob: "), HasSubstr("zed -> ")));
  }
}

// --- Files too large for memory, row terminators, quoted fields ---

TEST(DatasetLoaderTest, FileTooLargeForMemoryFailsTheLoadNamingIt) {
  testing::TempDir dir;
  dir.WriteFile("alice/a.csv", "x,y\n1,2\n");
  const std::string huge = dir.WriteFile("bob/huge.csv", [] {
    std::string text = "x,y\n";
    for (int i = 0; i < 100; ++i) text += "1.5,2.5\n";
    return text;
  }());
  // Sparse: 8 TiB that take no disk, and whose floats fit in no machine.
  if (truncate(huge.c_str(), off_t{1} << 43) != 0) GTEST_SKIP() << "no sparse files";
  auto loaded = LoadDataset(Config(dir.path()));
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(loaded.status().message(), HasSubstr("bob/huge.csv:2: about "));
}

TEST(DatasetLoaderTest, RowTerminatedAndQuotedFilesYieldTheSameColumns) {
  testing::TempDir dir;
  dir.WriteFile("alice/a.csv", "x,y,z\n1,2,3;\n4,5,6;\n");
  dir.WriteFile("bob/b.csv", "\"x\",\"y\",\"z\"\n\"7\",\"8\",\"9\"\n");
  dir.WriteFile("carol/c.csv", "x;y;z;\n10;11;12;\n");
  LoaderConfig config = Config(dir.path());
  config.strict = true;
  auto loaded = LoadDataset(config);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const Dataset& d = loaded->dataset;
  EXPECT_THAT(d.channel_names, ElementsAre("x", "y", "z"));
  ASSERT_EQ(d.series.size(), 3u);
  EXPECT_THAT(d.series[0].values, ElementsAre(1, 2, 3, 4, 5, 6));
  EXPECT_THAT(d.series[1].values, ElementsAre(7, 8, 9));
  EXPECT_THAT(d.series[2].values, ElementsAre(10, 11, 12));
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
  EXPECT_EQ(loaded->stats.files_loaded, 360);
  std::cout << "MotionSense ingest: " << loaded->stats.seconds << " s, "
            << loaded->stats.mb_per_s() << " MB/s with " << config.threads << " threads\n";
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
