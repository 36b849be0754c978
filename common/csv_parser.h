#ifndef TRIPLETSTREAM_COMMON_CSV_PARSER_H_
#define TRIPLETSTREAM_COMMON_CSV_PARSER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tripletstream {

enum class Delimiter {
  kAuto,       // Detected from the first line: ',', ';', '\t', else spaces.
  kComma,
  kSemicolon,
  kTab,
  kWhitespace  // One or more spaces / tabs; leading blanks ignored.
};

// What may follow the last field of a row, as the ';' in WISDM's "x,y,z;".
enum class RowTerminator {
  kAuto,       // ';' when the delimiter is not ';' and the first line, or the
               // first data line after a header, ends with one.
  kNone,
  kSemicolon,  // An optional ';' after the last field (with delimiter ';' it
               // is just a trailing delimiter, accepted anyway).
};

enum class HeaderMode {
  kAuto,     // A first line with any non-numeric field is a header.
  kPresent,
  kAbsent
};

// A column named in a header, or a 0-based position when `is_index`.
struct ColumnRef {
  std::string name;
  int index = -1;
  bool is_index = false;
};

// Parses a column reference: "#3" is always the 0-based position 3; any other
// text is a header name, except that a bare integer ("3") that names no header
// column (or a file without header) falls back to that position.
absl::StatusOr<ColumnRef> ParseColumnRef(absl::string_view text);
// Comma separated list of column references; empty text gives an empty list.
absl::StatusOr<std::vector<ColumnRef>> ParseColumnList(absl::string_view text);
absl::StatusOr<Delimiter> ParseDelimiter(absl::string_view text);
absl::StatusOr<HeaderMode> ParseHeaderMode(absl::string_view text);
absl::StatusOr<RowTerminator> ParseRowTerminator(absl::string_view text);

// Fields may be in double quotes (RFC 4180): "1.5" is a number, a quoted
// delimiter does not split a field, and "" inside quotes is a quote in
// names. A quoted field cannot span lines.
struct CsvOptions {
  Delimiter delimiter = Delimiter::kAuto;
  RowTerminator row_terminator = RowTerminator::kAuto;
  HeaderMode header = HeaderMode::kAuto;
  // Value columns, in output channel order. Empty: every column except the
  // user and session columns and columns with an empty header name (a pandas
  // index column) that is numeric in at least half of the first 64 data rows
  // having the header's field count.
  std::vector<ColumnRef> columns;
  // Column holding the user of each row (layout c); unset when name empty
  // and index < 0.
  ColumnRef user_column;
  // Column holding the session of each row; optional.
  ColumnRef session_column;
  // Lines longer than this many bytes are malformed. The first line (the
  // header) may be up to max(this, 1 MiB) bytes.
  int64_t max_line_bytes = 1 << 16;
  // ParseCsvFile reads files this many bytes at a time, so a file of any
  // size is streamed through a bounded buffer.
  int64_t read_chunk_bytes = 1 << 20;
};

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
