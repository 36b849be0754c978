#include "tests/testing/prometheus_text.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace tripletstream::testing {
namespace {

bool IsName(const std::string& s, bool colon) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = s[i];
    if (!(std::isalpha(c) || c == '_' || (colon && c == ':') || (i > 0 && std::isdigit(c)))) {
      return false;
    }
  }
  return true;
}

bool ParseValue(const std::string& s, double* out) {
  if (s == "NaN") {
    *out = std::nan("");
    return true;
  }
  if (s == "+Inf" || s == "-Inf") {
    *out = s[0] == '+' ? HUGE_VAL : -HUGE_VAL;
    return true;
  }
  return absl::SimpleAtod(s, out);
}

// Parses `{k="v",...}` starting at text[*pos] == '{'; advances past '}'.
bool ParseLabels(const std::string& text, size_t* pos) {
  size_t i = *pos + 1;
  while (i < text.size() && text[i] != '}') {
    size_t eq = text.find('=', i);
    if (eq == std::string::npos || !IsName(text.substr(i, eq - i), false)) return false;
    if (eq + 1 >= text.size() || text[eq + 1] != '"') return false;
    i = eq + 2;
    for (;; ++i) {
      if (i >= text.size()) return false;
      if (text[i] == '\\') {
        if (i + 1 >= text.size() || std::string("\\\"n").find(text[i + 1]) == std::string::npos) {
          return false;
        }
        ++i;
      } else if (text[i] == '"') {
        break;
      }
    }
    ++i;  // Past the closing quote.
    if (i < text.size() && text[i] == ',') ++i;
  }
  if (i >= text.size()) return false;
  *pos = i + 1;
  return true;
}

}  // namespace

absl::StatusOr<ParsedMetrics> ParsePrometheusText(const std::string& text) {
  ParsedMetrics out;
  int line_no = 0;
  for (absl::string_view view : absl::StrSplit(text, '\n')) {
    ++line_no;
    const std::string line(view);
    auto bad = [&](const std::string& why) {
      return absl::InvalidArgumentError(absl::StrCat("line ", line_no, " (", why, "): ", line));
    };
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::vector<std::string> parts = absl::StrSplit(line, absl::MaxSplits(' ', 3));
      if (parts.size() < 3) return bad("short comment");
      if (parts[1] == "HELP") {
        if (!IsName(parts[2], true)) return bad("bad name");
        out.help[parts[2]] = parts.size() > 3 ? parts[3] : "";
      } else if (parts[1] == "TYPE") {
        static const char* kTypes[] = {"counter", "gauge", "histogram", "summary", "untyped"};
        if (parts.size() != 4 || !IsName(parts[2], true)) return bad("bad TYPE");
        bool known = false;
        for (const char* t : kTypes) known = known || parts[3] == t;
        if (!known) return bad("unknown type");
        if (out.types.count(parts[2])) return bad("family typed twice");
        out.types[parts[2]] = parts[3];
      }
      continue;
    }
    size_t pos = 0;
    while (pos < line.size() && line[pos] != '{' && line[pos] != ' ') ++pos;
    const std::string name = line.substr(0, pos);
    if (!IsName(name, true)) return bad("bad metric name");
    if (pos < line.size() && line[pos] == '{' && !ParseLabels(line, &pos)) {
      return bad("bad labels");
    }
    const std::string key = line.substr(0, pos);
    if (pos >= line.size() || line[pos] != ' ') return bad("no value");
    std::vector<std::string> rest = absl::StrSplit(line.substr(pos + 1), ' ');
    double value = 0;
    if (rest.empty() || rest.size() > 2 || !ParseValue(rest[0], &value)) return bad("bad value");
    int64_t timestamp = 0;
    if (rest.size() == 2 && !absl::SimpleAtoi(rest[1], &timestamp)) return bad("bad timestamp");
    // Histogram/summary samples carry suffixes; our families are plain.
    if (!out.types.count(name)) return bad("sample before its TYPE line");
    if (!out.samples.emplace(key, value).second) return bad("repeated sample");
  }
  return out;
}

}  // namespace tripletstream::testing
