#ifndef TRIPLETSTREAM_TESTS_TESTING_PROMETHEUS_TEXT_H_
#define TRIPLETSTREAM_TESTS_TESTING_PROMETHEUS_TEXT_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"

namespace tripletstream::testing {

// A scrape parsed from the Prometheus text exposition format (0.0.4).
struct ParsedMetrics {
  std::map<std::string, std::string> types;  // Family name -> counter, gauge, ...
  std::map<std::string, std::string> help;   // Family name -> HELP text.
  // "name" or "name{k=\"v\",...}" exactly as written -> value.
  std::map<std::string, double> samples;

  // The value of `key`, or -1 when absent (tests compare against that).
  double Get(const std::string& key) const {
    auto it = samples.find(key);
    return it == samples.end() ? -1 : it->second;
  }
};

// Strict parse: every line is blank, "# HELP name text", "# TYPE name type"
// or a sample `name[{labels}] value [timestamp]` whose family was typed
// before it; names and label names are valid, label values are quoted with
// valid escapes, values parse (NaN, +Inf, -Inf included), no sample repeats.
// INVALID_ARGUMENT names the line.
absl::StatusOr<ParsedMetrics> ParsePrometheusText(const std::string& text);

}  // namespace tripletstream::testing

#endif  // TRIPLETSTREAM_TESTS_TESTING_PROMETHEUS_TEXT_H_
