#ifndef TRIPLETSTREAM_COMMON_DATASET_CACHE_H_
#define TRIPLETSTREAM_COMMON_DATASET_CACHE_H_

// The prepared dataset kept on disk, so that later starts skip parsing and
// preparing, and every server on a node shares one copy of the values in
// the page cache (tripletstream-server --cache_dir).
//
// One file per input: `dataset-<key digest>.tsc` in the cache folder. The
// key is a text listing every input the prepared dataset is a function of
// (the root, every data file's relative path, size and modification time,
// and the loader and preprocessing settings); it is stored in the file and
// compared byte for byte, so a changed file or flag never reuses a cache.
// The file (format version kCacheVersion, little-endian):
//
//   "TSDCACH1" u32 version  u32 reserved
//   u64 key bytes,  u64 meta bytes,  u64 value floats,  u64 checksum
//   key text, meta (names, series table, splits, norm statistics,
//   fingerprint, load counts), zero padding to a 4096-byte boundary,
//   then the normalized float32 values of every series, back to back.
//
// The checksum (Digest64) covers the meta and the values, and is checked at
// every open. Files are written to a temporary name and renamed, so a reader
// never sees a partial file. A file that is short, corrupt, of another
// version or of another key is an error (the server then rebuilds it).

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/dataset_loader.h"
#include "common/prepared_dataset.h"

namespace tripletstream {

inline constexpr uint32_t kCacheVersion = 1;

// The cache key of loading `loader` and preparing with `prep`: lists the
// data files the loader would find (suffix, symlinked folders once) with
// their sizes and modification times. NOT_FOUND when the root is missing.
absl::StatusOr<std::string> DatasetCacheKey(const LoaderConfig& loader,
                                            const PreprocessConfig& prep);

// `dir`/dataset-<16 hex digits of the key's digest>.tsc
std::string DatasetCachePath(const std::string& dir, const std::string& key);

// Writes `dataset` (and the load counts) under `key` to `path` atomically.
absl::Status WriteDatasetCache(const std::string& path, const std::string& key,
                               const PreparedDataset& dataset, const LoadStats& stats);

struct CachedDataset {
  std::unique_ptr<PreparedDataset> dataset;  // Series view the mapping.
  LoadStats stats;                           // As recorded when written.
  int64_t file_bytes = 0;
};

// Maps `path` read-only and checks it: NOT_FOUND when there is no such file,
// FAILED_PRECONDITION for another key or version, DATA_LOSS for a damaged
// file (bad magic, sizes, checksum or tables). The returned dataset's series
// point into the mapping, which lives as long as the dataset (or a copy);
// its config is `prep` (the key holds the same settings).
absl::StatusOr<CachedDataset> OpenDatasetCache(const std::string& path, const std::string& key,
                                               const PreprocessConfig& prep);

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_COMMON_DATASET_CACHE_H_
