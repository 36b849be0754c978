#include "common/csv_parser.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>
#include <unordered_map>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/csv_scan.h"

namespace tripletstream {
namespace {

using csv_internal::DelimiterChar;
using csv_internal::DetectDelimiter;
using csv_internal::FieldText;
using csv_internal::IsBlank;
using csv_internal::IsBlankLine;
using csv_internal::LineSource;
using csv_internal::LooksNumeric;
using csv_internal::ParseFloat;
using csv_internal::ParseFloatAt;
using csv_internal::SkipQuoted;
using csv_internal::SplitLine;
using csv_internal::StripTerminator;
using csv_internal::Trim;

// Data rows read ahead to choose default columns and estimate row sizes.
constexpr int kSampleRows = 64;
// ...but never more lines or bytes than these, however malformed the rows.
constexpr size_t kMaxSampleLines = 4096;
constexpr size_t kMaxSampleBytes = 4 << 20;
// The first line (a header) may be this long even under a lower
// max_line_bytes; longer lines are never held in memory.
constexpr int64_t kMinHoldBytes = 1 << 20;

int64_t HoldLimit(const CsvOptions& options) {
  return std::max<int64_t>(options.max_line_bytes, kMinHoldBytes);
}

int64_t PhysicalMemoryBytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return std::numeric_limits<int64_t>::max();
  return static_cast<int64_t>(pages) * page;
}

// Resolves a reference against the header names; -1 if absent.
int Resolve(const ColumnRef& ref, const std::vector<std::string>& names, bool has_header) {
  if (ref.is_index) return ref.index < static_cast<int>(names.size()) ? ref.index : -1;
  if (has_header) {
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == ref.name) return static_cast<int>(i);
    }
  }
  if (ref.index >= 0 && ref.index < static_cast<int>(names.size())) return ref.index;
  return -1;
}

bool IsSet(const ColumnRef& ref) { return ref.is_index || !ref.name.empty(); }

std::string Describe(const ColumnRef& ref) {
  return ref.is_index ? absl::StrCat("#", ref.index) : absl::StrCat("'", ref.name, "'");
}

std::string Excerpt(absl::string_view field) {
  field = Trim(field);
  if (field.size() > 32) return absl::StrCat(field.substr(0, 32), "...");
  return std::string(field);
}

const char* DelimiterName(Delimiter d) {
  switch (d) {
    case Delimiter::kComma: return "comma";
    case Delimiter::kSemicolon: return "semicolon";
    case Delimiter::kTab: return "tab";
    case Delimiter::kWhitespace: return "space";
    case Delimiter::kAuto: break;
  }
  return "auto";
}

// A line read ahead of parsing (the source's views do not outlive a call).
struct HeldLine {
  std::string text;
  int64_t number = 0;
  bool too_long = false;
};

class FileParser {
 public:
  FileParser(LineSource* source, const std::string& path, const CsvOptions& options,
             const FileLabels& labels, bool strict, int64_t max_skipped)
      : source_(*source), path_(path), options_(options), labels_(labels),
        strict_(strict), max_skipped_(max_skipped) {}

  // Never throws: running out of memory is RESOURCE_EXHAUSTED naming the file.
  absl::StatusOr<CsvFileResult> Run() {
    try {
      return RunUnguarded();
    } catch (const std::bad_alloc&) {
    } catch (const std::length_error&) {
    }
    // Free what this file holds before building the message.
    const int64_t rows = result_.rows_kept;
    result_ = CsvFileResult();
    return absl::ResourceExhaustedError(absl::StrCat(
        path_, ":", line_ > 0 ? line_ : source_.number(), ": out of memory after ", rows,
        " rows (", source_.bytes_read(), " bytes read); the file's values do not fit in "
        "memory: select fewer --columns or split the file"));
  }

 private:
  // The first line sets the format, read-ahead rows choose the columns,
  // then every row is parsed in order.
  absl::StatusOr<CsvFileResult> RunUnguarded() {
    std::string first;
    if (absl::Status s = ReadFirstLine(&first); !s.ok()) return s;
    const int64_t first_number = source_.number();
    const bool terminator_open = DetectFormat(first);
    const bool header = HasHeader();
    std::vector<std::string> names;
    std::vector<HeldLine> sample;
    if (header) {
      names = HeaderNames();
    } else {
      names = PositionalNames();
      sample.push_back({first, first_number, false});
    }
    num_fields_ = names.size();
    size_t sample_bytes = first.size() + 1;
    ReadAhead(header, terminator_open, &sample, &sample_bytes);
    if (!source_.status_ok()) return ReadError();
    if (absl::Status s = SelectColumns(names, header, sample); !s.ok()) return s;
    row_.resize(value_columns_.size());
    PlanFastPath();
    // Bytes per line for the reservation; the header counts too, so a file
    // whose rows were all too long to hold still gets an estimate.
    avg_line_bytes_ = static_cast<double>(sample_bytes) /
                      static_cast<double>(sample.size() + (header ? 1 : 0));
    if (absl::Status s = ParseHeldLines(std::move(sample)); !s.ok()) return s;
    if (absl::Status s = ParseRemainingLines(); !s.ok()) return s;
    return Finish();
  }

  // The first non-blank line; FAILED_PRECONDITION for an empty file or one
  // whose first line is too long to be text.
  absl::Status ReadFirstLine(std::string* first) {
    absl::string_view line;
    bool too_long = false;
    while (source_.Next(&line, &too_long)) {
      if (too_long) {
        return absl::FailedPreconditionError(absl::StrCat(
            path_, ":", source_.number(), ": first line longer than ", HoldLimit(options_),
            " bytes; not a text CSV file?"));
      }
      if (!IsBlankLine(line)) {
        *first = std::string(line);
        return absl::OkStatus();
      }
    }
    if (!source_.status_ok()) return ReadError();
    return absl::FailedPreconditionError(absl::StrCat(path_, ": empty file"));
  }

  // Delimiter and row terminator from the first line, which is split into
  // fields_. True when the terminator is still to be decided on the first
  // data line (the first line may be a header without one).
  bool DetectFormat(const std::string& first) {
    delimiter_ = options_.delimiter == Delimiter::kAuto ? DetectDelimiter(first)
                                                         : options_.delimiter;
    const bool semicolon_delimited = delimiter_ == Delimiter::kSemicolon;
    bool terminator_open = false;
    if (options_.row_terminator == RowTerminator::kSemicolon && !semicolon_delimited) {
      terminator_ = ';';
    } else if (options_.row_terminator == RowTerminator::kAuto && !semicolon_delimited) {
      if (StripTerminator(first, ';').size() != first.size()) {
        terminator_ = ';';
      } else {
        terminator_open = true;
      }
    }
    SplitLine(StripTerminator(first, terminator_), delimiter_, &fields_);
    return terminator_open;
  }

  // Whether the first line's fields_ are a header.
  bool HasHeader() const {
    if (options_.header != HeaderMode::kAuto) return options_.header == HeaderMode::kPresent;
    for (size_t i = 0; i < fields_.size(); ++i) {
      // An empty last field is a trailing delimiter, not a column name.
      if (i > 0 && i + 1 == fields_.size() && Trim(fields_[i]).empty()) break;
      if (!LooksNumeric(fields_[i])) return true;
    }
    return false;
  }

  std::vector<std::string> HeaderNames() const {
    std::vector<std::string> names;
    std::string scratch;
    for (absl::string_view f : fields_) names.emplace_back(FieldText(f, &scratch));
    // A trailing delimiter on the header line makes an empty last name.
    if (names.size() > 1 && names.back().empty()) names.pop_back();
    return names;
  }

  // c0, c1, ... for a file without a header.
  std::vector<std::string> PositionalNames() const {
    size_t n = fields_.size();
    if (n > 1 && Trim(fields_.back()).empty()) --n;
    std::vector<std::string> names;
    for (size_t i = 0; i < n; ++i) names.push_back(absl::StrCat("c", i));
    return names;
  }

  // Reads ahead: the first data rows choose default columns and give the
  // average row size. A terminator not on the header is looked for on the
  // first data line.
  void ReadAhead(bool header, bool terminator_open, std::vector<HeldLine>* sample,
                 size_t* sample_bytes) {
    absl::string_view line;
    bool too_long = false;
    int matching = 0;
    if (!sample->empty()) matching += HasFieldCount((*sample)[0].text);
    while (matching < kSampleRows && sample->size() < kMaxSampleLines &&
           *sample_bytes < kMaxSampleBytes && source_.Next(&line, &too_long)) {
      if (!too_long && IsBlankLine(line)) continue;
      if (terminator_open && !too_long) {
        if (header && StripTerminator(line, ';').size() != line.size()) terminator_ = ';';
        terminator_open = false;
      }
      sample->push_back({std::string(line), source_.number(), too_long});
      *sample_bytes += line.size() + 1;
      if (!too_long) matching += HasFieldCount(sample->back().text);
    }
  }

  absl::Status ParseHeldLines(std::vector<HeldLine> sample) {
    for (size_t i = 0; i < sample.size(); ++i) {
      sample_left_ = static_cast<int64_t>(sample.size() - i - 1);
      if (sample[i].too_long) {
        SkipTooLong(sample[i].number);
      } else {
        ParseRow(sample[i].text, sample[i].number);
      }
      if (!status_.ok()) return status_;
    }
    sample_left_ = 0;
    return absl::OkStatus();
  }

  absl::Status ParseRemainingLines() {
    absl::string_view line;
    bool too_long = false;
    while (source_.Next(&line, &too_long)) {
      if (too_long) {
        SkipTooLong(source_.number());
      } else if (!IsBlankLine(line)) {
        ParseRow(line, source_.number());
      }
      if (!status_.ok()) return status_;
    }
    if (!source_.status_ok()) return ReadError();
    return absl::OkStatus();
  }

  absl::StatusOr<CsvFileResult> Finish() {
    result_.bytes = source_.bytes_read();
    if (result_.rows_kept == 0) {
      std::string why = result_.skipped.empty()
          ? std::string()
          : absl::StrCat(" (", result_.rows_skipped, " malformed; first at line ",
                         result_.skipped[0].line, ": ", result_.skipped[0].reason, ")");
      return absl::FailedPreconditionError(
          absl::StrCat(path_, ": no usable data rows", why));
    }
    return std::move(result_);
  }

  absl::Status ReadError() const {
    return absl::DataLossError(absl::StrCat(path_, ": read failed after ",
                                            source_.bytes_read(), " bytes (line ",
                                            source_.number(), "): ",
                                            std::strerror(source_.read_errno())));
  }

  // Whether the row has the header's field count (a trailing delimiter
  // allowed).
  bool HasFieldCount(absl::string_view line) {
    SplitLine(StripTerminator(line, terminator_), delimiter_, &fields_);
    size_t n = fields_.size();
    if (n == num_fields_ + 1 && Trim(fields_.back()).empty()) --n;
    return n == num_fields_;
  }

  // Keeps the `candidates` that are numeric in at least half of the first
  // kSampleRows data rows with `num_fields_` fields (all of them when there
  // is no such row), so one malformed row does not change which columns a
  // file yields.
  std::vector<int> NumericColumns(const std::vector<HeldLine>& sample,
                                  const std::vector<int>& candidates, int* rows_out) {
    std::vector<int> numeric(candidates.size(), 0);
    int rows = 0;
    for (const HeldLine& held : sample) {
      if (rows >= kSampleRows) break;
      if (held.too_long || !HasFieldCount(held.text)) continue;
      ++rows;
      for (size_t i = 0; i < candidates.size(); ++i) {
        numeric[i] += LooksNumeric(fields_[candidates[i]]);
      }
    }
    std::vector<int> kept;
    for (size_t i = 0; i < candidates.size(); ++i) {
      if (2 * numeric[i] >= rows) kept.push_back(candidates[i]);
    }
    *rows_out = rows;
    return kept;
  }

  absl::Status SelectColumns(const std::vector<std::string>& names, bool header,
                             const std::vector<HeldLine>& sample) {
    auto missing = [&](const ColumnRef& ref, const char* what) {
      return absl::InvalidArgumentError(absl::StrCat(
          path_, ": ", what, " column ", Describe(ref), " not found; columns are: ",
          header ? absl::StrJoin(names, ", ") : absl::StrCat(names.size(), " unnamed")));
    };
    if (IsSet(options_.user_column)) {
      user_col_ = Resolve(options_.user_column, names, header);
      if (user_col_ < 0) return missing(options_.user_column, "user");
    }
    if (IsSet(options_.session_column)) {
      session_col_ = Resolve(options_.session_column, names, header);
      if (session_col_ < 0) return missing(options_.session_column, "session");
    }
    if (!options_.columns.empty()) {
      for (const ColumnRef& ref : options_.columns) {
        int col = Resolve(ref, names, header);
        if (col < 0) return missing(ref, "value");
        value_columns_.push_back(col);
      }
    } else {
      std::vector<int> candidates;
      for (size_t i = 0; i < names.size(); ++i) {
        const int col = static_cast<int>(i);
        if (col == user_col_ || col == session_col_) continue;
        if (header && names[i].empty()) continue;  // e.g. a pandas index column
        candidates.push_back(col);
      }
      int rows = 0;
      value_columns_ = NumericColumns(sample, candidates, &rows);
      if (value_columns_.empty()) {
        // Bad data rather than a bad configuration: the loader skips the file.
        std::string example;
        for (const HeldLine& held : sample) {
          if (!held.too_long) {
            example = absl::StrCat("; line ", held.number, " is '", Excerpt(held.text), "'");
            break;
          }
        }
        return absl::FailedPreconditionError(absl::StrCat(
            path_, ": no numeric value columns (none is numeric in at least half of the "
            "first ", rows, " data rows with ", names.size(), " fields; ",
            DelimiterName(delimiter_), "-delimited",
            options_.delimiter == Delimiter::kAuto ? " (detected)" : "", example,
            "); check --delimiter, or name the value columns with --columns"));
      }
    }
    for (int col : value_columns_) result_.channel_names.push_back(names[col]);
    return absl::OkStatus();
  }

  void Skip(int64_t line, std::string reason) {
    if (strict_) {
      status_ = absl::InvalidArgumentError(absl::StrCat(path_, ":", line, ": ", reason));
      return;
    }
    ++result_.rows_skipped;
    if (static_cast<int64_t>(result_.skipped.size()) < max_skipped_) {
      result_.skipped.push_back({path_, line, std::move(reason)});
    }
  }

  void SkipTooLong(int64_t line) {
    Skip(line, absl::StrCat("line longer than ", options_.max_line_bytes, " bytes"));
  }

  // Enables ParseRowFast for single-character delimiters when each column
  // has at most one role (value slot, user or session).
  void PlanFastPath() {
    if (delimiter_ == Delimiter::kWhitespace) return;
    sep_ = DelimiterChar(delimiter_);
    slot_of_column_.assign(num_fields_, -1);
    for (size_t i = 0; i < value_columns_.size(); ++i) {
      const int col = value_columns_[i];
      if (slot_of_column_[col] >= 0 || col == user_col_ || col == session_col_) return;
      slot_of_column_[col] = static_cast<int>(i);
    }
    fast_ = true;
  }

  bool IsPad(char c) const { return c == ' ' || (c == '\t' && sep_ != '\t'); }

  // Parses a well-formed row in one pass into row_, without splitting it.
  // Returns false for anything unusual; the careful path then decides and
  // names the reason.
  bool ParseRowFast(absl::string_view line, absl::string_view* user,
                    absl::string_view* session) {
    const char* p = line.data();
    const char* const end = p + line.size();
    const int n = static_cast<int>(num_fields_);
    for (int col = 0; col < n; ++col) {
      const int slot = slot_of_column_[col];
      if (slot >= 0) {
        while (p < end && IsPad(*p)) ++p;
        float value;
        if (!ParseFloatAt(&p, end, &value)) {
          // RFC 4180 quotes, "1.5": looked for only here, off the common path.
          if (p == end || *p != '"') return false;
          ++p;
          if (!ParseFloatAt(&p, end, &value) || p == end || *p != '"') return false;
          ++p;
        }
        if (!std::isfinite(value)) return false;
        row_[slot] = value;
        while (p < end && IsPad(*p)) ++p;
      } else {
        const char* start = p;
        while (p < end && IsPad(*p)) ++p;
        if (p < end && *p == '"') {  // A quoted field may hold the delimiter.
          if (const char* close = SkipQuoted(p + 1, end)) p = close;
        }
        while (p < end && *p != sep_) ++p;
        if (col == user_col_) *user = absl::string_view(start, p - start);
        if (col == session_col_) *session = absl::string_view(start, p - start);
      }
      if (col + 1 < n) {
        if (p == end || *p != sep_) return false;
        ++p;
      }
    }
    if (p == end) return true;
    if (*p != sep_) return false;
    for (++p; p < end; ++p) {  // A trailing delimiter, then only blanks.
      if (!IsBlank(*p)) return false;
    }
    return true;
  }

  void ParseRow(absl::string_view line, int64_t number) {
    line_ = number;
    if (static_cast<int64_t>(line.size()) > options_.max_line_bytes) {
      SkipTooLong(number);
      return;
    }
    line = StripTerminator(line, terminator_);
    absl::string_view user, session;
    if (fast_ && ParseRowFast(line, &user, &session)) {
      AddRow(user, session, number);
      return;
    }
    SplitLine(line, delimiter_, &fields_);
    size_t n = fields_.size();
    if (n == num_fields_ + 1 && Trim(fields_.back()).empty()) --n;  // Trailing delimiter.
    if (n != num_fields_) {
      Skip(number, absl::StrCat("expected ", num_fields_, " fields, got ", n));
      return;
    }
    for (size_t i = 0; i < value_columns_.size(); ++i) {
      const int col = value_columns_[i];
      if (!ParseFloat(fields_[col], &row_[i])) {
        Skip(number, absl::StrCat("field ", col + 1, " (", result_.channel_names[i],
                                  ") is not a number: '", Excerpt(fields_[col]), "'"));
        return;
      }
      if (!std::isfinite(row_[i])) {
        Skip(number, absl::StrCat("non-finite value in field ", col + 1, " (",
                                  result_.channel_names[i], ")"));
        return;
      }
    }
    if (user_col_ >= 0) user = fields_[user_col_];
    if (session_col_ >= 0) session = fields_[session_col_];
    AddRow(user, session, number);
  }

  // Appends row_ to its group; `user_field` / `session_field` are the raw
  // fields of the user and session columns, if any.
  void AddRow(absl::string_view user_field, absl::string_view session_field,
              int64_t number) {
    RowGroup* group = GroupFor(user_field, session_field, number);
    if (group == nullptr) return;
    std::vector<float>& values = group->values;
    if (values.capacity() - values.size() < row_.size() && single_group()) {
      if (!Reserve(&values, number)) return;
    }
    values.insert(values.end(), row_.begin(), row_.end());
    ++result_.rows_kept;
  }

  bool single_group() const { return user_col_ < 0 && session_col_ < 0; }

  // Makes room for the rest of the file's rows in the one group of a file
  // without user/session columns: exact when the rest of the file is in
  // memory, else estimated from the bytes left (10% over, so one reservation
  // usually suffices). Refuses, naming the file, values that could never fit
  // in this machine's memory. False (status_ set) when refused.
  bool Reserve(std::vector<float>* values, int64_t number) {
    int64_t rows;
    if (source_.rest_in_memory()) {
      rows = sample_left_ + source_.LinesLeft(1) + 1;  // +1: the row at hand.
    } else {
      // Bytes per line so far, or of the read-ahead lines at the start.
      double per_line = avg_line_bytes_;
      if (source_.number() >= 4 * kSampleRows) {
        per_line = static_cast<double>(source_.bytes_consumed()) /
                   static_cast<double>(source_.number());
      }
      const int64_t lines = sample_left_ + source_.LinesLeft(per_line) + 1;
      rows = lines + lines / 10 + 1024;
    }
    const int64_t cols = static_cast<int64_t>(row_.size());
    const double need_bytes =
        (static_cast<double>(rows) * cols + static_cast<double>(values->size())) *
        sizeof(float);
    const int64_t memory = PhysicalMemoryBytes();
    if (need_bytes > static_cast<double>(memory)) {
      status_ = absl::ResourceExhaustedError(absl::StrCat(
          path_, ":", number, ": about ", rows, " more rows of ", cols,
          " values would need ", static_cast<int64_t>(need_bytes / 1e6), " MB, more than the ",
          memory / 1000000, " MB of memory of this machine; select fewer --columns or split "
          "the file"));
      return false;
    }
    const size_t size = values->size();
    values->reserve(std::max(size + static_cast<size_t>(rows) * row_.size(),
                             size + size / 4 + row_.size()));
    return true;
  }

  RowGroup* GroupFor(absl::string_view user_field, absl::string_view session_field,
                     int64_t number) {
    if (single_group() && !result_.groups.empty()) {
      return &result_.groups[0];  // The file's only group.
    }
    absl::string_view user = labels_.user;
    absl::string_view session = labels_.session;
    if (user_col_ >= 0) {
      user = FieldText(user_field, &user_scratch_);
      if (user.empty()) {
        Skip(number, "empty user field");
        return nullptr;
      }
    }
    if (session_col_ >= 0) {
      session = FieldText(session_field, &session_scratch_);
      if (session.empty()) {
        Skip(number, "empty session field");
        return nullptr;
      }
    }
    // Rows of one group are usually consecutive: check the last one first.
    if (last_group_ >= 0) {
      RowGroup& g = result_.groups[last_group_];
      if (g.user == user && g.session == session) return &g;
    }
    key_.assign(user.data(), user.size());
    key_.push_back('\x1f');
    key_.append(session.data(), session.size());
    auto [it, inserted] = group_index_.try_emplace(key_, result_.groups.size());
    if (inserted) {
      result_.groups.push_back({std::string(user), std::string(session), {}});
    }
    last_group_ = static_cast<int>(it->second);
    return &result_.groups[last_group_];
  }

  LineSource& source_;
  const std::string& path_;
  const CsvOptions& options_;
  const FileLabels& labels_;
  const bool strict_;
  const int64_t max_skipped_;
  Delimiter delimiter_ = Delimiter::kComma;
  char terminator_ = 0;  // 0: none.
  size_t num_fields_ = 0;
  int user_col_ = -1;
  int session_col_ = -1;
  std::vector<int> value_columns_;
  std::vector<absl::string_view> fields_;
  std::vector<float> row_;
  bool fast_ = false;
  char sep_ = ',';
  std::vector<int> slot_of_column_;  // Output slot of each column, or -1.
  std::unordered_map<std::string, size_t> group_index_;
  std::string key_;
  std::string user_scratch_;
  std::string session_scratch_;
  int last_group_ = -1;
  double avg_line_bytes_ = 1;
  int64_t sample_left_ = 0;  // Read-ahead lines not parsed yet.
  int64_t line_ = 0;         // Number of the row being parsed.
  absl::Status status_;
  CsvFileResult result_;
};

}  // namespace

absl::StatusOr<CsvFileResult> ParseCsvBuffer(absl::string_view contents,
                                             const std::string& path,
                                             const CsvOptions& options,
                                             const FileLabels& labels, bool strict,
                                             int64_t max_skipped_records) {
  LineSource source(contents, HoldLimit(options));
  FileParser parser(&source, path, options, labels, strict, max_skipped_records);
  return parser.Run();
}

absl::StatusOr<CsvFileResult> ParseCsvFile(const std::string& path,
                                           const CsvOptions& options,
                                           const FileLabels& labels, bool strict,
                                           int64_t max_skipped_records) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    std::string message = absl::StrCat(path, ": cannot open: ", std::strerror(err));
    if (err == ENOENT) return absl::NotFoundError(message);
    if (err == EACCES) return absl::PermissionDeniedError(message);
    return absl::UnavailableError(message);
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return absl::FailedPreconditionError(absl::StrCat(path, ": not a regular file"));
  }
  // Read in chunks: a file larger than memory is streamed, never loaded whole.
  // The buffer is kept per thread for the next file, unless a long line grew
  // it past twice its usual size.
  thread_local csv_internal::ReadBuffer buffer;
  absl::StatusOr<CsvFileResult> result = absl::ResourceExhaustedError(
      absl::StrCat(path, ": out of memory allocating the read buffer"));
  try {
    LineSource source(fd, static_cast<int64_t>(st.st_size), options.read_chunk_bytes,
                      HoldLimit(options), &buffer);
    FileParser parser(&source, path, options, labels, strict, max_skipped_records);
    result = parser.Run();
  } catch (const std::bad_alloc&) {
  }
  close(fd);
  if (buffer.capacity > 2 * static_cast<size_t>(std::max<int64_t>(1, options.read_chunk_bytes))) {
    buffer = csv_internal::ReadBuffer();
  }
  return result;
}

}  // namespace tripletstream
