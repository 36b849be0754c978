#ifndef TRIPLETSTREAM_COMMON_CSV_SCAN_H_
#define TRIPLETSTREAM_COMMON_CSV_SCAN_H_

// Line and field scanning primitives of the CSV parser: no allocation per
// line or field. Internal to common/csv_parser.cc; here so they stay small
// and inlinable.

#include <cstdint>
#include <cstring>
#include <system_error>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/csv_parser.h"
#include "fast_float/fast_float.h"

namespace tripletstream::csv_internal {

inline bool IsBlank(char c) { return c == ' ' || c == '\t'; }

inline absl::string_view Trim(absl::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && (IsBlank(s.back()) || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

inline absl::string_view Unquote(absl::string_view s) {
  s = Trim(s);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') {
    s.remove_prefix(1);
    s.remove_suffix(1);
  }
  return s;
}

// Splits `line` into `fields` (reused, so no allocation once warm).
inline void SplitLine(absl::string_view line, Delimiter delimiter,
                      std::vector<absl::string_view>* fields) {
  fields->clear();
  if (delimiter == Delimiter::kWhitespace) {
    size_t i = 0;
    const size_t n = line.size();
    while (i < n) {
      while (i < n && IsBlank(line[i])) ++i;
      if (i >= n) break;
      size_t start = i;
      while (i < n && !IsBlank(line[i])) ++i;
      fields->push_back(line.substr(start, i - start));
    }
    return;
  }
  const char sep = delimiter == Delimiter::kComma       ? ','
                   : delimiter == Delimiter::kSemicolon ? ';'
                                                        : '\t';
  const char* p = line.data();
  const char* end = p + line.size();
  for (;;) {
    const char* hit = static_cast<const char*>(std::memchr(p, sep, end - p));
    if (hit == nullptr) {
      fields->emplace_back(p, end - p);
      return;
    }
    fields->emplace_back(p, hit - p);
    p = hit + 1;
  }
}

inline Delimiter DetectDelimiter(absl::string_view line) {
  size_t commas = 0, semicolons = 0, tabs = 0;
  for (char c : line) {
    commas += c == ',';
    semicolons += c == ';';
    tabs += c == '\t';
  }
  if (commas == 0 && semicolons == 0 && tabs == 0) return Delimiter::kWhitespace;
  if (commas >= semicolons && commas >= tabs) return Delimiter::kComma;
  if (semicolons >= tabs) return Delimiter::kSemicolon;
  return Delimiter::kTab;
}

// Parses a float at `*p` (an optional leading '+' allowed, which fast_float
// rejects) and advances `*p` past it; false if no number starts there.
inline bool ParseFloatAt(const char** p, const char* end, float* value) {
  const char* first = *p;
  if (first < end && *first == '+') {
    ++first;
    if (first < end && *first == '-') return false;
  }
  auto result = fast_float::from_chars(first, end, *value);
  if (result.ec != std::errc()) return false;
  *p = result.ptr;
  return true;
}

// Parses the whole field as a float; false if anything else is in it.
inline bool ParseFloat(absl::string_view field, float* value) {
  field = Trim(field);
  const char* first = field.data();
  const char* last = first + field.size();
  return ParseFloatAt(&first, last, value) && first == last;
}

inline bool LooksNumeric(absl::string_view field) {
  float ignored;
  return ParseFloat(field, &ignored);
}

// Iterates over lines, 1-based numbers, '\r' stripped.
class LineReader {
 public:
  explicit LineReader(absl::string_view text) : text_(text) {}
  bool Next(absl::string_view* line) {
    if (pos_ >= text_.size()) return false;
    const char* start = text_.data() + pos_;
    const void* hit = std::memchr(start, '\n', text_.size() - pos_);
    size_t len = hit == nullptr ? text_.size() - pos_ : static_cast<const char*>(hit) - start;
    pos_ += len + 1;
    ++number_;
    *line = absl::string_view(start, len);
    if (!line->empty() && line->back() == '\r') line->remove_suffix(1);
    return true;
  }
  int64_t number() const { return number_; }

 private:
  absl::string_view text_;
  size_t pos_ = 0;
  int64_t number_ = 0;
};

// Number of lines (newlines + 1), eight bytes at a time.
inline size_t CountLines(absl::string_view text) {
  constexpr uint64_t kNewlines = 0x0a0a0a0a0a0a0a0aULL;
  constexpr uint64_t kLow7 = 0x7f7f7f7f7f7f7f7fULL;
  size_t lines = 1, i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, text.data() + i, 8);
    const uint64_t x = word ^ kNewlines;  // Zero bytes where '\n' was.
    const uint64_t nonzero = ((x & kLow7) + kLow7) | x;
    const uint64_t ones = (~nonzero & ~kLow7) >> 7;  // 1 in each such byte.
    lines += static_cast<size_t>((ones * 0x0101010101010101ULL) >> 56);
  }
  for (; i < text.size(); ++i) lines += text[i] == '\n';
  return lines;
}

inline bool IsBlankLine(absl::string_view line) {
  for (char c : line) {
    if (!IsBlank(c)) return false;
  }
  return true;
}

}  // namespace tripletstream::csv_internal

#endif  // TRIPLETSTREAM_COMMON_CSV_SCAN_H_
