#include "common/dataset_cache.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/testing/synthetic_data.h"
#include "tests/testing/temp_dir.h"

namespace tripletstream {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

class DatasetCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::SyntheticSpec spec;
    spec.users = 4;
    spec.sessions_per_user = 2;
    spec.rows_per_session = 200;
    ASSERT_GT(testing::WriteSyntheticUsers(data_.path(), spec), 0);
    loader_.root = data_.path();
    prep_.window_length = 32;
    prep_.window_stride = 16;
    prep_.split.train_fraction = 0.75;
    prep_.split.val_fraction = 0;
    prep_.split.test_fraction = 0.25;
  }

  // Loads and prepares from the CSV files.
  std::unique_ptr<PreparedDataset> Prepare(LoadStats* stats) {
    auto loaded = LoadDataset(loader_);
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    *stats = loaded->stats;
    auto prepared = PrepareDataset(std::move(loaded->dataset), prep_);
    EXPECT_TRUE(prepared.ok()) << prepared.status();
    return *std::move(prepared);
  }

  std::string Key() {
    auto key = DatasetCacheKey(loader_, prep_);
    EXPECT_TRUE(key.ok()) << key.status();
    return *key;
  }

  testing::TempDir data_, cache_;
  LoaderConfig loader_;
  PreprocessConfig prep_;
};

TEST_F(DatasetCacheTest, AMappedCacheServesTheSameDataset) {
  LoadStats stats;
  std::unique_ptr<PreparedDataset> built = Prepare(&stats);
  const std::string key = Key();
  const std::string path = DatasetCachePath(cache_.path(), key);
  ASSERT_TRUE(WriteDatasetCache(path, key, *built, stats).ok());
  auto cached = OpenDatasetCache(path, key, prep_);
  ASSERT_TRUE(cached.ok()) << cached.status();
  const PreparedDataset& d = *cached->dataset;
  EXPECT_EQ(d.fingerprint, built->fingerprint);
  EXPECT_EQ(d.data.channel_names, built->data.channel_names);
  EXPECT_EQ(d.data.user_names, built->data.user_names);
  EXPECT_EQ(d.data.session_names, built->data.session_names);
  EXPECT_EQ(d.norm.mean, built->norm.mean);
  EXPECT_EQ(d.norm.std, built->norm.std);
  EXPECT_EQ(cached->stats.rows_kept, stats.rows_kept);
  EXPECT_EQ(cached->stats.files_loaded, stats.files_loaded);
  EXPECT_NE(d.data.storage, nullptr);
  for (int split = 0; split < kNumSplits; ++split) {
    const SplitWindows& a = built->windows.split(static_cast<SplitId>(split));
    const SplitWindows& b = d.windows.split(static_cast<SplitId>(split));
    ASSERT_EQ(a.windows.size(), b.windows.size());
    EXPECT_EQ(a.users, b.users);
    for (size_t i = 0; i < a.windows.size(); ++i) {
      ASSERT_EQ(std::memcmp(built->WindowData(a.windows[i]), d.WindowData(b.windows[i]),
                            built->window_floats() * sizeof(float)),
                0)
          << "split " << split << " window " << i;
    }
  }
  // Views into the mapping, not copies; alive as long as a copy of the
  // dataset holds the storage.
  ASSERT_FALSE(d.data.series.empty());
  EXPECT_NE(d.data.series[0].view, nullptr);
  EXPECT_TRUE(d.data.series[0].values.empty());
  PreparedDataset copy = d;
  cached->dataset.reset();
  EXPECT_EQ(copy.data.series[0].data()[0], built->data.series[0].data()[0]);
}

TEST_F(DatasetCacheTest, TheKeyFollowsTheFilesAndTheSettings) {
  const std::string key = Key();
  EXPECT_EQ(Key(), key);
  EXPECT_NE(key.find("file user_0/session_0.csv"), std::string::npos) << key;
  PreprocessConfig other = prep_;
  other.window_stride = 8;
  EXPECT_NE(*DatasetCacheKey(loader_, other), key);
  LoaderConfig suffix = loader_;
  suffix.file_suffix = ".txt";
  EXPECT_NE(*DatasetCacheKey(suffix, prep_), key);
  // A file grows: another key, so another cache file.
  const std::string file = data_.path() + "/user_0/session_0.csv";
  WriteAll(file, ReadAll(file) + "0.5,0.5,0.5\n");
  const std::string grown = Key();
  EXPECT_NE(grown, key);
  EXPECT_NE(DatasetCachePath(cache_.path(), grown), DatasetCachePath(cache_.path(), key));
  // A new file, too.
  data_.WriteFile("user_9/session_0.csv", "c0,c1,c2\n1,2,3\n");
  EXPECT_NE(Key(), grown);
  LoaderConfig missing = loader_;
  missing.root = data_.path() + "/nothing";
  EXPECT_TRUE(absl::IsNotFound(DatasetCacheKey(missing, prep_).status()));
}

TEST_F(DatasetCacheTest, AForeignMissingOrDamagedCacheIsAnErrorNeverACrash) {
  LoadStats stats;
  std::unique_ptr<PreparedDataset> built = Prepare(&stats);
  const std::string key = Key();
  const std::string path = DatasetCachePath(cache_.path(), key);
  EXPECT_TRUE(absl::IsNotFound(OpenDatasetCache(path, key, prep_).status()));
  ASSERT_TRUE(WriteDatasetCache(path, key, *built, stats).ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(OpenDatasetCache(path, key + "x", prep_).status()));
  const std::string good = ReadAll(path);
  // Truncated, empty, or not a cache at all.
  for (const std::string& bad : {good.substr(0, good.size() - 4), good.substr(0, 20),
                                 std::string(), std::string(8192, 'x')}) {
    WriteAll(path, bad);
    EXPECT_TRUE(absl::IsDataLoss(OpenDatasetCache(path, key, prep_).status())) << bad.size();
  }
  // Every byte of the header, key and tables, and bytes of the values,
  // flipped one at a time: an error each time (padding aside), no crash.
  // The header and key byte by byte, then every 3rd byte of the first page
  // (the tables, then padding).
  std::vector<size_t> positions;
  for (size_t i = 0; i < 48 + key.size(); ++i) positions.push_back(i);
  for (size_t i = 48 + key.size(); i < 4096; i += 3) positions.push_back(i);
  for (size_t i = good.size() - 4; i > good.size() - 4000; i -= 397) positions.push_back(i);
  int errors = 0;
  for (size_t at : positions) {
    std::string flipped = good;
    flipped[at] = static_cast<char>(flipped[at] ^ 0x5a);
    WriteAll(path, flipped);
    auto opened = OpenDatasetCache(path, key, prep_);
    if (!opened.ok()) {
      ++errors;
      EXPECT_TRUE(absl::IsDataLoss(opened.status()) ||
                  absl::IsFailedPrecondition(opened.status()))
          << "byte " << at << ": " << opened.status();
    }
  }
  EXPECT_GT(errors, static_cast<int>(positions.size() / 4));
  WriteAll(path, good);
  EXPECT_TRUE(OpenDatasetCache(path, key, prep_).ok());
}

TEST_F(DatasetCacheTest, AFolderThatCannotBeMadeIsAClearError) {
  LoadStats stats;
  std::unique_ptr<PreparedDataset> built = Prepare(&stats);
  // The cache folder would have to live under a regular file.
  const std::string file = cache_.WriteFile("plain", "x");
  const std::string key = Key();
  absl::Status s = WriteDatasetCache(DatasetCachePath(file + "/cache", key), key, *built, stats);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(file), std::string::npos) << s;
}

}  // namespace
}  // namespace tripletstream
