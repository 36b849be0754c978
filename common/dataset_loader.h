#ifndef TRIPLETSTREAM_COMMON_DATASET_LOADER_H_
#define TRIPLETSTREAM_COMMON_DATASET_LOADER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/csv_parser.h"
#include "common/dataset.h"

namespace tripletstream {

// How files under a root map to users and sessions:
//  - user_column set: users (and sessions, if session_column set) come from
//    the rows; otherwise a file is a session.
//  - path_regex set: matched (RE2, full match) against the path relative to
//    the root, with named groups `user` and optionally `session`; files that
//    do not match are ignored (and counted).
//  - neither: the first folder under the root is the user, the file's
//    relative path the session.
struct LoaderConfig {
  std::string root;
  CsvOptions csv;
  std::string path_regex;
  // Only files whose names end with this suffix are read.
  std::string file_suffix = ".csv";
  int threads = 2;
  bool strict = false;
  // Keep at most this many skipped-row records (counts are always exact).
  int64_t max_skipped_records = 1000000;
};

struct LoadStats {
  int64_t files_found = 0;     // Files with the suffix under the root.
  int64_t files_loaded = 0;    // Files that contributed rows.
  int64_t files_skipped = 0;   // Unreadable, empty or non-matching files.
  int64_t bytes = 0;           // Bytes of the loaded files.
  int64_t rows_kept = 0;
  int64_t rows_skipped = 0;
  double seconds = 0;          // Wall time of the whole load.
  double mb_per_s() const { return seconds > 0 ? bytes / 1e6 / seconds : 0; }
};

struct LoadedData {
  Dataset dataset;
  LoadStats stats;
  std::vector<SkippedRow> skipped_rows;
  // "path: reason" for every file that was skipped whole.
  std::vector<std::string> skipped_files;
  // "link -> target: reason" for every symlinked folder not followed because
  // the folder it leads to was already listed (see LoadDataset).
  std::vector<std::string> ignored_links;
};

// Finds and parses every data file in parallel. Files are processed in
// sorted relative-path order so the result does not depend on thread count.
// Symlinked folders are followed, but each folder (device and inode) is
// listed once: a link back up the tree, or a second path to a listed folder,
// is skipped with a warning and recorded in `ignored_links`.
// All files must yield the same channel names (else INVALID_ARGUMENT naming
// both files). Rows of a (user, session) found in several files are
// concatenated in path order. Fails when the root does not exist, when no
// file yields rows, under `strict` on the first bad row or file, and with
// RESOURCE_EXHAUSTED naming the file when a file's rows do not fit in memory.
absl::StatusOr<LoadedData> LoadDataset(const LoaderConfig& config);

// The data files LoadDataset finds: paths relative to the root ('/'
// separated, sorted), listed the same way (suffix, symlinked folders once).
// NOT_FOUND when the root is not a folder.
absl::StatusOr<std::vector<std::string>> ListDataFiles(const LoaderConfig& config);

// Writes every ignored symlink, skipped file and skipped row ("file:line:
// reason") as one line each.
absl::Status WriteSkipReport(const LoadedData& data, const std::string& path);

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_COMMON_DATASET_LOADER_H_
