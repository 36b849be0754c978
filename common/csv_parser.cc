#include "common/csv_parser.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <unordered_map>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/csv_scan.h"

namespace tripletstream {
namespace {

constexpr absl::string_view kBom = "\xEF\xBB\xBF";

using csv_internal::CountLines;
using csv_internal::DetectDelimiter;
using csv_internal::IsBlank;
using csv_internal::IsBlankLine;
using csv_internal::LineReader;
using csv_internal::LooksNumeric;
using csv_internal::ParseFloat;
using csv_internal::ParseFloatAt;
using csv_internal::SplitLine;
using csv_internal::Trim;
using csv_internal::Unquote;

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

class FileParser {
 public:
  FileParser(absl::string_view contents, const std::string& path,
             const CsvOptions& options, const FileLabels& labels, bool strict,
             int64_t max_skipped)
      : contents_(contents), path_(path), options_(options), labels_(labels),
        strict_(strict), max_skipped_(max_skipped) {}

  absl::StatusOr<CsvFileResult> Run() {
    result_.bytes = static_cast<int64_t>(contents_.size());
    if (contents_.substr(0, 3) == kBom) contents_.remove_prefix(3);
    LineReader reader(contents_);
    absl::string_view line;
    // First non-blank line: delimiter and header.
    bool found = false;
    while (reader.Next(&line)) {
      if (!IsBlankLine(line)) {
        found = true;
        break;
      }
    }
    if (!found) {
      return absl::FailedPreconditionError(absl::StrCat(path_, ": empty file"));
    }
    delimiter_ = options_.delimiter == Delimiter::kAuto ? DetectDelimiter(line)
                                                         : options_.delimiter;
    SplitLine(line, delimiter_, &fields_);
    bool header = options_.header == HeaderMode::kPresent;
    if (options_.header == HeaderMode::kAuto) {
      for (size_t i = 0; i < fields_.size(); ++i) {
        // An empty last field is a trailing delimiter, not a column name.
        if (i > 0 && i + 1 == fields_.size() && Trim(fields_[i]).empty()) break;
        if (!LooksNumeric(fields_[i])) header = true;
      }
    }
    std::vector<std::string> names;
    absl::string_view first_data;
    int64_t first_data_line = 0;
    if (header) {
      for (absl::string_view f : fields_) names.emplace_back(Unquote(f));
      // A trailing delimiter on the header line makes an empty last name.
      if (names.size() > 1 && names.back().empty()) names.pop_back();
      while (reader.Next(&line)) {
        if (!IsBlankLine(line)) {
          first_data = line;
          first_data_line = reader.number();
          break;
        }
      }
    } else {
      size_t n = fields_.size();
      if (n > 1 && Trim(fields_.back()).empty()) --n;
      for (size_t i = 0; i < n; ++i) names.push_back(absl::StrCat("c", i));
      first_data = line;
      first_data_line = reader.number();
    }
    if (absl::Status s = SelectColumns(names, header, first_data, reader); !s.ok()) {
      return s;
    }
    num_fields_ = names.size();
    row_.resize(value_columns_.size());
    PlanFastPath();
    if (first_data_line > 0) ParseRow(first_data, first_data_line);
    if (!status_.ok()) return status_;
    while (reader.Next(&line)) {
      if (IsBlankLine(line)) continue;
      ParseRow(line, reader.number());
      if (!status_.ok()) return status_;
    }
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

 private:
  // Keeps the `candidates` that are numeric in at least half of the first
  // kSampleRows data rows with `num_fields` fields (all of them when there is
  // no such row), so one malformed row does not change which columns a file
  // yields. `first` is the first data row, `rest` reads the lines after it.
  std::vector<int> NumericColumns(absl::string_view first, LineReader rest,
                                  size_t num_fields, const std::vector<int>& candidates) {
    constexpr int kSampleRows = 64;
    std::vector<absl::string_view> fields;
    std::vector<int> numeric(candidates.size(), 0);
    int rows = 0;
    for (absl::string_view line = first; rows < kSampleRows && !line.empty();) {
      SplitLine(line, delimiter_, &fields);
      if (fields.size() == num_fields + 1 && Trim(fields.back()).empty()) fields.pop_back();
      if (fields.size() == num_fields) {
        ++rows;
        for (size_t i = 0; i < candidates.size(); ++i) {
          numeric[i] += LooksNumeric(fields[candidates[i]]);
        }
      }
      line = absl::string_view();
      while (rest.Next(&line) && IsBlankLine(line)) line = absl::string_view();
    }
    std::vector<int> kept;
    for (size_t i = 0; i < candidates.size(); ++i) {
      if (2 * numeric[i] >= rows) kept.push_back(candidates[i]);
    }
    return kept;
  }

  absl::Status SelectColumns(const std::vector<std::string>& names, bool header,
                             absl::string_view first_data, const LineReader& rest) {
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
      value_columns_ = NumericColumns(first_data, rest, names.size(), candidates);
      if (value_columns_.empty()) {
        // Bad data rather than a bad configuration: the loader skips the file.
        return absl::FailedPreconditionError(absl::StrCat(
            path_, ": no numeric value columns found; name them with --columns"));
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

  // Enables ParseRowFast for single-character delimiters when each column
  // has at most one role (value slot, user or session).
  void PlanFastPath() {
    if (delimiter_ == Delimiter::kWhitespace) return;
    sep_ = delimiter_ == Delimiter::kComma       ? ','
           : delimiter_ == Delimiter::kSemicolon ? ';'
                                                 : '\t';
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
        if (!ParseFloatAt(&p, end, &value) || !std::isfinite(value)) return false;
        row_[slot] = value;
        while (p < end && IsPad(*p)) ++p;
      } else {
        const char* start = p;
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
    if (static_cast<int64_t>(line.size()) > options_.max_line_bytes) {
      Skip(number, absl::StrCat("line longer than ", options_.max_line_bytes, " bytes"));
      return;
    }
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
    group->values.insert(group->values.end(), row_.begin(), row_.end());
    ++result_.rows_kept;
  }

  RowGroup* GroupFor(absl::string_view user_field, absl::string_view session_field,
                     int64_t number) {
    if (user_col_ < 0 && session_col_ < 0 && !result_.groups.empty()) {
      return &result_.groups[0];  // The file's only group.
    }
    absl::string_view user = labels_.user;
    absl::string_view session = labels_.session;
    if (user_col_ >= 0) {
      user = Unquote(user_field);
      if (user.empty()) {
        Skip(number, "empty user field");
        return nullptr;
      }
    }
    if (session_col_ >= 0) {
      session = Unquote(session_field);
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
      // Reserve for the common one-group file: rows x columns.
      if (user_col_ < 0 && session_col_ < 0) {
        result_.groups.back().values.reserve(CountLines(contents_) * value_columns_.size());
      }
    }
    last_group_ = static_cast<int>(it->second);
    return &result_.groups[last_group_];
  }

  absl::string_view contents_;
  const std::string& path_;
  const CsvOptions& options_;
  const FileLabels& labels_;
  const bool strict_;
  const int64_t max_skipped_;
  Delimiter delimiter_ = Delimiter::kComma;
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
  int last_group_ = -1;
  absl::Status status_;
  CsvFileResult result_;
};

}  // namespace

absl::StatusOr<ColumnRef> ParseColumnRef(absl::string_view text) {
  text = Trim(text);
  ColumnRef ref;
  if (text.empty()) return absl::InvalidArgumentError("empty column reference");
  if (text.front() == '#') {
    int index;
    if (!absl::SimpleAtoi(text.substr(1), &index) || index < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad column position '", text, "': want #N with N >= 0"));
    }
    ref.index = index;
    ref.is_index = true;
    return ref;
  }
  ref.name = std::string(text);
  int index;
  if (absl::SimpleAtoi(text, &index) && index >= 0) ref.index = index;
  return ref;
}

absl::StatusOr<std::vector<ColumnRef>> ParseColumnList(absl::string_view text) {
  std::vector<ColumnRef> refs;
  if (Trim(text).empty()) return refs;
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    auto ref = ParseColumnRef(part);
    if (!ref.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--columns: ", ref.status().message()));
    }
    refs.push_back(*std::move(ref));
  }
  return refs;
}

absl::StatusOr<Delimiter> ParseDelimiter(absl::string_view text) {
  const std::string t = absl::AsciiStrToLower(text);
  if (t == "auto") return Delimiter::kAuto;
  if (t == "comma" || t == ",") return Delimiter::kComma;
  if (t == "semicolon" || t == ";") return Delimiter::kSemicolon;
  if (t == "tab" || t == "\\t" || t == "\t") return Delimiter::kTab;
  if (t == "space" || t == "spaces" || t == "whitespace" || t == " ") {
    return Delimiter::kWhitespace;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--delimiter must be auto, comma, semicolon, tab or space; got '", text, "'"));
}

absl::StatusOr<HeaderMode> ParseHeaderMode(absl::string_view text) {
  const std::string t = absl::AsciiStrToLower(text);
  if (t == "auto") return HeaderMode::kAuto;
  if (t == "yes" || t == "true" || t == "1") return HeaderMode::kPresent;
  if (t == "no" || t == "false" || t == "0") return HeaderMode::kAbsent;
  return absl::InvalidArgumentError(
      absl::StrCat("--header must be auto, yes or no; got '", text, "'"));
}

absl::StatusOr<CsvFileResult> ParseCsvBuffer(absl::string_view contents,
                                             const std::string& path,
                                             const CsvOptions& options,
                                             const FileLabels& labels, bool strict,
                                             int64_t max_skipped_records) {
  FileParser parser(contents, path, options, labels, strict, max_skipped_records);
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
  std::string contents;
  contents.resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < contents.size()) {
    ssize_t n = read(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      close(fd);
      return absl::DataLossError(absl::StrCat(
          path, ": read failed after ", done, " bytes: ",
          n == 0 ? "file shrank" : std::strerror(err)));
    }
    done += static_cast<size_t>(n);
  }
  close(fd);
  return ParseCsvBuffer(contents, path, options, labels, strict, max_skipped_records);
}

}  // namespace tripletstream
