#ifndef TRIPLETSTREAM_COMMON_CSV_SCAN_H_
#define TRIPLETSTREAM_COMMON_CSV_SCAN_H_

// Line and field scanning primitives of the CSV parser: no allocation per
// line or field. Internal to common/csv_parser.cc; here so they stay small
// and inlinable.

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
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

// `p` is just past an opening double quote; returns the position just past
// the closing one (a doubled quote "" inside is a literal quote), or nullptr
// when the quote is never closed.
inline const char* SkipQuoted(const char* p, const char* end) {
  for (;;) {
    const char* q = static_cast<const char*>(std::memchr(p, '"', end - p));
    if (q == nullptr) return nullptr;
    if (q + 1 < end && q[1] == '"') {
      p = q + 2;
      continue;
    }
    return q + 1;
  }
}

// The text of a field: blanks around it trimmed; a field in double quotes
// (RFC 4180) loses them, and a doubled quote inside becomes one ("a""b" is
// a"b, written to *scratch when that is needed).
inline absl::string_view FieldText(absl::string_view field, std::string* scratch) {
  field = Trim(field);
  if (field.size() < 2 || field.front() != '"' || field.back() != '"') return field;
  field = field.substr(1, field.size() - 2);
  if (field.find('"') == absl::string_view::npos) return field;
  scratch->clear();
  for (size_t i = 0; i < field.size(); ++i) {
    scratch->push_back(field[i]);
    if (field[i] == '"' && i + 1 < field.size() && field[i + 1] == '"') ++i;
  }
  return *scratch;
}

// The single character of a one-character delimiter.
inline char DelimiterChar(Delimiter delimiter) {
  return delimiter == Delimiter::kComma       ? ','
         : delimiter == Delimiter::kSemicolon ? ';'
                                              : '\t';
}

// Splits `line` into `fields` (reused, so no allocation once warm). A field
// that starts (after blanks) with a double quote runs to its closing quote,
// so a quoted delimiter does not split it (RFC 4180); an unclosed quote is
// an ordinary character.
inline void SplitLine(absl::string_view line, Delimiter delimiter,
                      std::vector<absl::string_view>* fields) {
  fields->clear();
  const char* p = line.data();
  const char* const end = p + line.size();
  if (delimiter == Delimiter::kWhitespace) {
    while (p < end) {
      while (p < end && IsBlank(*p)) ++p;
      if (p >= end) break;
      const char* start = p;
      if (*p == '"') {
        if (const char* close = SkipQuoted(p + 1, end)) p = close;
      }
      while (p < end && !IsBlank(*p)) ++p;
      fields->emplace_back(start, p - start);
    }
    return;
  }
  const char sep = DelimiterChar(delimiter);
  for (;;) {
    const char* scan = p;
    const char* q = p;
    while (q < end && *q != sep && IsBlank(*q)) ++q;
    if (q < end && *q == '"') {
      if (const char* close = SkipQuoted(q + 1, end)) scan = close;
    }
    const char* hit = static_cast<const char*>(std::memchr(scan, sep, end - scan));
    if (hit == nullptr) {
      fields->emplace_back(p, end - p);
      return;
    }
    fields->emplace_back(p, hit - p);
    p = hit + 1;
  }
}

// `line` without one `terminator` character after its last field (blanks
// after it allowed); `line` itself when it has none or `terminator` is 0.
inline absl::string_view StripTerminator(absl::string_view line, char terminator) {
  if (terminator == 0) return line;
  size_t n = line.size();
  while (n > 0 && (IsBlank(line[n - 1]) || line[n - 1] == '\r')) --n;
  if (n > 0 && line[n - 1] == terminator) return line.substr(0, n - 1);
  return line;
}

// Counts the candidate delimiters of the first line. A ';' ending the line is
// left out of the count: it is a row terminator (WISDM's "x,y,z;") or a
// trailing delimiter, and must not outvote the real delimiter ("1\t2;").
inline Delimiter DetectDelimiter(absl::string_view line) {
  const absl::string_view body = StripTerminator(line, ';');
  size_t commas = 0, semicolons = 0, tabs = 0;
  for (char c : body) {
    commas += c == ',';
    semicolons += c == ';';
    tabs += c == '\t';
  }
  if (commas == 0 && semicolons == 0 && tabs == 0) {
    // "x;" is one column with a trailing delimiter; "1 2 3;" is spaces.
    if (body.size() == line.size()) return Delimiter::kWhitespace;
    const absl::string_view trimmed = Trim(body);
    return std::any_of(trimmed.begin(), trimmed.end(), IsBlank) ? Delimiter::kWhitespace
                                                                : Delimiter::kSemicolon;
  }
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

// Parses the whole field as a float; false if anything else is in it. The
// number may be in double quotes ("1.5", RFC 4180), blanks around it allowed.
inline bool ParseFloat(absl::string_view field, float* value) {
  field = Trim(field);
  if (field.size() >= 2 && field.front() == '"' && field.back() == '"') {
    field = Trim(field.substr(1, field.size() - 2));
  }
  const char* first = field.data();
  const char* last = first + field.size();
  return ParseFloatAt(&first, last, value) && first == last;
}

inline bool LooksNumeric(absl::string_view field) {
  float ignored;
  return ParseFloat(field, &ignored);
}

inline bool IsBlankLine(absl::string_view line) {
  for (char c : line) {
    if (!IsBlank(c)) return false;
  }
  return true;
}

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

// The read buffer of a LineSource, kept by the caller so that it can be
// reused from file to file (allocating it per file costs page faults).
struct ReadBuffer {
  std::unique_ptr<char[]> data;
  size_t capacity = 0;
};

// Lines of a text in memory or of a file read in bounded chunks, so a file
// of any size is streamed through at most about chunk + hold_limit bytes of
// buffer. Both give the same lines: '\n' and one trailing '\r' removed, a
// UTF-8 byte order mark removed from line 1, 1-based numbers. A line longer
// than `hold_limit` bytes is never held: it comes back empty with
// *too_long set (or just empty if it holds nothing but blanks and '\r').
class LineSource {
 public:
  static constexpr absl::string_view kBom = "\xEF\xBB\xBF";

  LineSource(absl::string_view text, int64_t hold_limit)
      : buf_(text.data()), end_(text.size()), eof_(true),
        hold_limit_(static_cast<size_t>(hold_limit)), bytes_read_(text.size()) {}

  // `fd` and `buffer` are not owned; `size_hint` (the size fstat saw) only
  // feeds LinesLeft's estimate.
  LineSource(int fd, int64_t size_hint, int64_t chunk_bytes, int64_t hold_limit,
             ReadBuffer* buffer)
      : owned_(*buffer), fd_(fd), hold_limit_(static_cast<size_t>(hold_limit)),
        chunk_(static_cast<size_t>(std::max<int64_t>(1, chunk_bytes))),
        size_hint_(size_hint) {}

  // False at the end of the input or on a read error (then !status_ok()).
  // The view is valid until the next call.
  bool Next(absl::string_view* line, bool* too_long) {
    *too_long = false;
    size_t scanned = begin_;
    for (;;) {
      const char* hit =
          end_ > scanned
              ? static_cast<const char*>(std::memchr(buf_ + scanned, '\n', end_ - scanned))
              : nullptr;
      if (hit != nullptr) {
        const size_t start = begin_;
        const size_t len = static_cast<size_t>(hit - buf_) - start;
        begin_ = start + len + 1;
        return Emit(absl::string_view(buf_ + start, len), line, too_long);
      }
      if (eof_) {
        if (begin_ == end_) return false;
        const size_t start = begin_;
        begin_ = end_;
        return Emit(absl::string_view(buf_ + start, end_ - start), line, too_long);
      }
      // +1: a '\r' before the '\n' would still be removed.
      if (end_ - begin_ > hold_limit_ + 1) return SkipLongLine(line, too_long);
      scanned = end_ - begin_;
      if (!Refill()) return false;
      // Refill moved the partial line to the start of the buffer.
    }
  }

  int64_t number() const { return number_; }
  // Bytes of the lines returned so far.
  int64_t bytes_consumed() const {
    return static_cast<int64_t>(bytes_read_ - (end_ - begin_));
  }
  // Whether the rest of the input is in memory (LinesLeft is exact).
  bool rest_in_memory() const { return eof_; }
  // Bytes taken from the input so far (all of them for text in memory).
  int64_t bytes_read() const { return static_cast<int64_t>(bytes_read_); }
  bool status_ok() const { return read_errno_ == 0; }
  int read_errno() const { return read_errno_; }

  // Lines not returned yet: exact when the rest of the input is in memory,
  // else estimated at `avg_line_bytes` per line.
  int64_t LinesLeft(double avg_line_bytes) const {
    const absl::string_view rest(buf_ + begin_, end_ - begin_);
    if (eof_) return rest.empty() ? 0 : static_cast<int64_t>(CountLines(rest));
    const double left = static_cast<double>(rest.size()) +
                        std::max<double>(0, static_cast<double>(size_hint_) -
                                                static_cast<double>(bytes_read_));
    return static_cast<int64_t>(left / std::max(1.0, avg_line_bytes)) + 1;
  }

 private:
  bool Emit(absl::string_view text, absl::string_view* line, bool* too_long) {
    ++number_;
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (number_ == 1 && text.substr(0, kBom.size()) == kBom) text.remove_prefix(kBom.size());
    if (text.size() > hold_limit_) {
      *too_long = !BlankOrCr(text);
      text = absl::string_view();
    }
    *line = text;
    return true;
  }

  static bool BlankOrCr(absl::string_view text) {
    for (char c : text) {
      if (!IsBlank(c) && c != '\r') return false;
    }
    return true;
  }

  // The line at begin_ is longer than hold_limit_: reads on to its end
  // without keeping it.
  bool SkipLongLine(absl::string_view* line, bool* too_long) {
    bool blank = BlankOrCr(absl::string_view(buf_ + begin_, end_ - begin_));
    begin_ = end_;
    for (;;) {
      if (!Refill()) return false;
      const char* hit =
          end_ > begin_
              ? static_cast<const char*>(std::memchr(buf_ + begin_, '\n', end_ - begin_))
              : nullptr;
      const size_t stop = hit != nullptr ? static_cast<size_t>(hit - buf_) : end_;
      blank = blank && BlankOrCr(absl::string_view(buf_ + begin_, stop - begin_));
      if (hit != nullptr) {
        begin_ = stop + 1;
        break;
      }
      begin_ = end_;
      if (eof_) break;
    }
    ++number_;
    *too_long = !blank;
    *line = absl::string_view();
    return true;
  }

  // Moves the partial line to the front and appends up to one chunk; false
  // on a read error.
  bool Refill() {
    if (eof_) return true;
    if (begin_ > 0) {
      std::memmove(owned_.data.get(), owned_.data.get() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (owned_.capacity - end_ < chunk_) {
      const size_t capacity = end_ + chunk_;
      std::unique_ptr<char[]> grown(new char[capacity]);
      if (end_ > 0) std::memcpy(grown.get(), owned_.data.get(), end_);
      owned_.data = std::move(grown);
      owned_.capacity = capacity;
    }
    buf_ = owned_.data.get();
    // Fill the chunk, so that a file smaller than it ends in one call.
    const size_t target = end_ + chunk_;
    while (end_ < target) {
      const ssize_t n = read(fd_, owned_.data.get() + end_, target - end_);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        read_errno_ = errno;
        eof_ = true;
        return false;
      }
      if (n == 0) {
        eof_ = true;
        break;
      }
      end_ += static_cast<size_t>(n);
      bytes_read_ += static_cast<size_t>(n);
    }
    return true;
  }

  const char* buf_ = nullptr;
  ReadBuffer dummy_;     // owned_ of a source over text in memory.
  ReadBuffer& owned_ = dummy_;
  size_t begin_ = 0;  // Start of the next line in buf_.
  size_t end_ = 0;    // End of the bytes in buf_.
  bool eof_ = false;
  int fd_ = -1;
  size_t hold_limit_;
  size_t chunk_ = 0;
  int64_t size_hint_ = 0;
  size_t bytes_read_ = 0;
  int64_t number_ = 0;
  int read_errno_ = 0;
};

}  // namespace tripletstream::csv_internal

#endif  // TRIPLETSTREAM_COMMON_CSV_SCAN_H_
