#ifndef TRIPLETSTREAM_METRICS_METRICS_REGISTRY_H_
#define TRIPLETSTREAM_METRICS_METRICS_REGISTRY_H_

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace tripletstream {

enum class MetricType { kCounter, kGauge };

// One value of a metric family, with its labels (name, value) in order.
struct MetricSample {
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
};

// The metric families a program exposes, rendered on demand in the
// Prometheus text exposition format (version 0.0.4). Values are pulled from
// collect callbacks at scrape time, so the hot paths only bump their own
// atomics. Thread-safe; callbacks run on the scraping thread and must be
// thread-safe themselves.
class MetricsRegistry {
 public:
  using Collect = std::function<std::vector<MetricSample>()>;

  // INVALID_ARGUMENT for a name Prometheus rejects, a counter whose name
  // does not end in "_total", or a name already registered.
  absl::Status Add(const std::string& name, const std::string& help, MetricType type,
                   Collect collect);
  // One unlabelled sample.
  absl::Status AddValue(const std::string& name, const std::string& help, MetricType type,
                        std::function<double()> value);

  // Several unlabelled families; stops at the first error.
  struct Value {
    const char* name;
    const char* help;
    MetricType type;
    std::function<double()> value;
  };
  absl::Status AddValues(const std::vector<Value>& values);

  // "# HELP", "# TYPE" and sample lines for every family, in registration order.
  std::string Render() const;

 private:
  struct Family {
    std::string name, help;
    MetricType type;
    Collect collect;
  };
  mutable absl::Mutex mu_;
  std::vector<Family> families_ ABSL_GUARDED_BY(mu_);
};

// The content type of Render()'s output.
inline constexpr char kPrometheusTextContentType[] = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_METRICS_METRICS_REGISTRY_H_
