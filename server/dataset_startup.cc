#include "server/dataset_startup.h"

#include <glog/logging.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/dataset_cache.h"

namespace tripletstream {
namespace {

void LogSummary(const LoadStats& s, const PreparedDataset& d, bool from_cache) {
  LOG(INFO) << absl::StrFormat(
      "ingest%s: %d files (%d skipped), %.1f MB, rows kept %d skipped %d, %.3f s, %.0f MB/s",
      from_cache ? " (from the dataset cache, no file parsed)" : "", s.files_loaded,
      s.files_skipped, s.bytes / 1e6, s.rows_kept, s.rows_skipped, s.seconds, s.mb_per_s());
  LOG(INFO) << "channels (" << d.channels() << "): "
            << absl::StrJoin(d.data.channel_names, ",");
  for (int i = 0; i < kNumSplits; ++i) {
    const SplitWindows& w = d.windows.split(static_cast<SplitId>(i));
    std::vector<std::string> users;
    for (int32_t u : w.users) users.push_back(d.data.user_names[u]);
    LOG(INFO) << absl::StrFormat("split %-7s users %3d sessions %5d windows %8d [%s]",
                                 SplitName(static_cast<SplitId>(i)), w.users.size(),
                                 w.sessions(), w.windows.size(), absl::StrJoin(users, " "));
  }
  LOG(INFO) << absl::StrFormat("window %d stride %d, fingerprint %s",
                               d.config.window_length, d.config.window_stride,
                               FingerprintHex(d.fingerprint));
}

// The cached prepared dataset for these inputs in `dir`, mapped, or null
// when there is none (or it is unusable, which is logged: it is then
// rebuilt). `key`/`path` are set when the inputs could be listed.
std::shared_ptr<const PreparedDataset> FromCache(const std::string& dir,
                                                 const LoaderConfig& loader_config,
                                                 const PreprocessConfig& prep, std::string* key,
                                                 std::string* path, LoadStats* stats) {
  if (dir.empty()) return nullptr;
  const absl::Time start = absl::Now();
  absl::StatusOr<std::string> listed = DatasetCacheKey(loader_config, prep);
  if (!listed.ok()) return nullptr;  // The load reports the missing folder.
  *key = *std::move(listed);
  *path = DatasetCachePath(dir, *key);
  absl::StatusOr<CachedDataset> cached = OpenDatasetCache(*path, *key, prep);
  if (!cached.ok()) {
    if (absl::IsNotFound(cached.status())) {
      LOG(INFO) << "dataset cache: none yet for these inputs (" << *path << "); building it";
    } else {
      LOG(WARNING) << "dataset cache unusable, rebuilding it: " << cached.status().message();
    }
    return nullptr;
  }
  *stats = cached->stats;
  stats->seconds = absl::ToDoubleSeconds(absl::Now() - start);
  LOG(INFO) << absl::StrFormat("dataset cache: mapped %s (%.1f MB, shared with every server "
                               "mapping it) in %.3f s",
                               *path, cached->file_bytes / 1e6, stats->seconds);
  std::shared_ptr<const PreparedDataset> dataset = std::move(cached->dataset);
  LogSummary(*stats, *dataset, /*from_cache=*/true);
  return dataset;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const PreparedDataset>> LoadAndPrepare(
    const LoaderConfig& loader_config, const PreprocessConfig& prep,
    const std::string& cache_dir, const std::string& skip_report, LoadStats* stats) {
  std::string cache_key, cache_path;
  if (auto cached = FromCache(cache_dir, loader_config, prep, &cache_key, &cache_path, stats)) {
    return cached;
  }
  absl::StatusOr<LoadedData> loaded = LoadDataset(loader_config);
  if (!loaded.ok()) {
    return absl::Status(loaded.status().code(), absl::StrCat("cannot load ", loader_config.root,
                                                             ": ", loaded.status().ToString()));
  }
  if (!skip_report.empty()) {
    absl::Status written = WriteSkipReport(*loaded, skip_report);
    if (!written.ok()) LOG(ERROR) << written;
  }
  LoadedData data = *std::move(loaded);
  absl::StatusOr<std::unique_ptr<PreparedDataset>> prepared =
      PrepareDataset(std::move(data.dataset), prep);
  if (!prepared.ok()) {
    return absl::Status(prepared.status().code(),
                        absl::StrCat("cannot prepare ", loader_config.root, ": ",
                                     prepared.status().ToString()));
  }
  std::shared_ptr<const PreparedDataset> dataset = *std::move(prepared);
  LogSummary(data.stats, *dataset, /*from_cache=*/false);
  *stats = data.stats;
  if (!cache_path.empty()) {
    absl::Status written = WriteDatasetCache(cache_path, cache_key, *dataset, data.stats);
    absl::StatusOr<CachedDataset> mapped =
        written.ok() ? OpenDatasetCache(cache_path, cache_key, prep)
                     : absl::StatusOr<CachedDataset>(written);
    if (mapped.ok()) {
      LOG(INFO) << "dataset cache: wrote " << cache_path << " and serves from it";
      dataset = std::move(mapped->dataset);
    } else {
      LOG(WARNING) << "dataset cache not written, serving from memory: "
                   << mapped.status().message();
    }
  }
  return dataset;
}

}  // namespace tripletstream
