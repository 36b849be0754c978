#ifndef TRIPLETSTREAM_COMMON_CSV_OPTIONS_H_
#define TRIPLETSTREAM_COMMON_CSV_OPTIONS_H_

// How CSV files are read (common/csv_parser.h), and the flag syntax of each
// setting.

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

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_COMMON_CSV_OPTIONS_H_
