#ifndef TRIPLETSTREAM_COMMON_CSV_PARSER_H_
#define TRIPLETSTREAM_COMMON_CSV_PARSER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/csv_options.h"

namespace tripletstream {

// Why a row was skipped, with its location.
struct SkippedRow {
  std::string file;
  int64_t line = 0;  // 1-based.
  std::string reason;
};

// Rows of one (user, session) group found in a file, row-major.
struct RowGroup {
  std::string user;
  std::string session;
  std::vector<float> values;
};

struct CsvFileResult {
  std::vector<std::string> channel_names;  // Names of the selected columns.
  std::vector<RowGroup> groups;            // In order of first appearance.
  int64_t rows_kept = 0;
  int64_t rows_skipped = 0;
  std::vector<SkippedRow> skipped;  // At most `max_skipped_records` entries.
  int64_t bytes = 0;
};

// Where the rows of a file belong when the file has no user/session column.
struct FileLabels {
  std::string user;
  std::string session;
};

// Parses one CSV file. Malformed rows (wrong field count, non-numeric field,
// NaN or infinity, over-long line) are skipped and recorded; with `strict`
// the first one fails the call with INVALID_ARGUMENT naming file:line.
// Errors: NOT_FOUND / PERMISSION_DENIED for unreadable files, DATA_LOSS for a
// read error, FAILED_PRECONDITION for a file without usable data rows (or,
// with default columns, without a numeric column, or with a first line over
// the header limit), INVALID_ARGUMENT for a missing column,
// RESOURCE_EXHAUSTED when the file's values would not fit in memory (more
// than the machine's physical memory, or an allocation failed). Every message
// starts with the path. Never throws.
absl::StatusOr<CsvFileResult> ParseCsvFile(const std::string& path,
                                           const CsvOptions& options,
                                           const FileLabels& labels,
                                           bool strict,
                                           int64_t max_skipped_records);

// Same, over bytes already in memory; `path` is only used in messages.
absl::StatusOr<CsvFileResult> ParseCsvBuffer(absl::string_view contents,
                                             const std::string& path,
                                             const CsvOptions& options,
                                             const FileLabels& labels,
                                             bool strict,
                                             int64_t max_skipped_records);

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_COMMON_CSV_PARSER_H_
