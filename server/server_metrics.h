#ifndef TRIPLETSTREAM_SERVER_SERVER_METRICS_H_
#define TRIPLETSTREAM_SERVER_SERVER_METRICS_H_

#include "absl/status/status.h"
#include "metrics/metrics_registry.h"
#include "server/server_stats.h"

namespace tripletstream {

// Registers the data server's Prometheus metrics (names in docs/deploy.md),
// read from `stats` at scrape time. `stats` must outlive `registry`'s use.
absl::Status RegisterServerMetrics(const ServerStats* stats, MetricsRegistry* registry);

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_SERVER_SERVER_METRICS_H_
