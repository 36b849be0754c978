#include "metrics/metrics_registry.h"

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tripletstream {
namespace {

bool ValidName(const std::string& name, bool allow_colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = absl::ascii_isalpha(c) || c == '_' || (allow_colon && c == ':') ||
                    (i > 0 && absl::ascii_isdigit(c));
    if (!ok) return false;
  }
  return true;
}

// Escapes HELP text (backslash, newline) or label values (also quotes).
std::string Escape(const std::string& s, bool quotes) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quotes && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return absl::StrFormat("%.0f", v);
  return absl::StrFormat("%.9g", v);
}

}  // namespace

absl::Status MetricsRegistry::Add(const std::string& name, const std::string& help,
                                  MetricType type, Collect collect) {
  if (!ValidName(name, /*allow_colon=*/true)) {
    return absl::InvalidArgumentError(absl::StrCat("invalid metric name '", name, "'"));
  }
  if (type == MetricType::kCounter && !absl::EndsWith(name, "_total")) {
    return absl::InvalidArgumentError(
        absl::StrCat("counter '", name, "' must end in _total"));
  }
  absl::MutexLock lock(&mu_);
  for (const Family& f : families_) {
    if (f.name == name) {
      return absl::InvalidArgumentError(absl::StrCat("metric '", name, "' registered twice"));
    }
  }
  families_.push_back(Family{name, help, type, std::move(collect)});
  return absl::OkStatus();
}

absl::Status MetricsRegistry::AddValue(const std::string& name, const std::string& help,
                                       MetricType type, std::function<double()> value) {
  return Add(name, help, type, [value = std::move(value)] {
    return std::vector<MetricSample>{MetricSample{{}, value()}};
  });
}

absl::Status MetricsRegistry::AddValues(const std::vector<Value>& values) {
  for (const Value& v : values) {
    if (absl::Status s = AddValue(v.name, v.help, v.type, v.value); !s.ok()) return s;
  }
  return absl::OkStatus();
}

std::string MetricsRegistry::Render() const {
  absl::MutexLock lock(&mu_);
  std::string out;
  for (const Family& f : families_) {
    absl::StrAppend(&out, "# HELP ", f.name, " ", Escape(f.help, false), "\n");
    absl::StrAppend(&out, "# TYPE ", f.name, " ",
                    f.type == MetricType::kCounter ? "counter" : "gauge", "\n");
    for (const MetricSample& s : f.collect()) {
      out += f.name;
      if (!s.labels.empty()) {
        out += '{';
        for (size_t i = 0; i < s.labels.size(); ++i) {
          const auto& [key, value] = s.labels[i];
          // Label names are ours (code constants): drop a bad one loudly
          // in tests rather than emit an unparsable line.
          const std::string safe_key = ValidName(key, false) ? key : "invalid_label";
          absl::StrAppend(&out, i ? "," : "", safe_key, "=\"", Escape(value, true), "\"");
        }
        out += '}';
      }
      absl::StrAppend(&out, " ", FormatValue(s.value), "\n");
    }
  }
  return out;
}

}  // namespace tripletstream
