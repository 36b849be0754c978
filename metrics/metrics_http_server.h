#ifndef TRIPLETSTREAM_METRICS_METRICS_HTTP_SERVER_H_
#define TRIPLETSTREAM_METRICS_METRICS_HTTP_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "metrics/metrics_registry.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace tripletstream {

// Serves a MetricsRegistry over HTTP (cpp-httplib) for Prometheus:
// GET /metrics returns the text exposition format, GET / a short index.
// GET /healthz answers 200 while the process runs (a liveness probe) and
// GET /readyz 200 when `ready` says so, else 503 (a readiness probe that
// works where the gRPC port speaks TLS, which kubelet's gRPC probes cannot).
// Runs its own listener thread; the destructor stops it.
//
// Idle or stalled connections cannot starve scrapes: each accepted
// connection gets a thread of its own (created on demand, up to
// kMaxConnectionThreads at once; beyond that connections wait their turn),
// a connection that sends no request is closed after
// kKeepAliveTimeoutSeconds, one that stops mid-request after
// kReadTimeoutSeconds, and a keep-alive connection serves at most
// kMaxRequestsPerConnection requests.
class MetricsHttpServer {
 public:
  // Listens on host:port (port 0 picks a free port, see port()).
  // UNAVAILABLE when the address cannot be bound. `registry` must outlive
  // the server. `ready` (thread-safe; null = always ready) backs /readyz.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      const std::string& host, int port, const MetricsRegistry* registry,
      std::function<bool()> ready = nullptr);
  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  int port() const { return port_; }

  static constexpr int kMaxConnectionThreads = 512;
  static constexpr int kKeepAliveTimeoutSeconds = 2;
  static constexpr int kReadTimeoutSeconds = 2;
  static constexpr int kWriteTimeoutSeconds = 5;
  static constexpr int kMaxRequestsPerConnection = 5;

 private:
  MetricsHttpServer() = default;

  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  int port_ = 0;
};

// The programs' --metrics_port convention: 0 = no endpoint (returns
// nullptr), -1 = any free port, else that port; logs the URL. INVALID_ARGUMENT
// names `flag_name` for other values.
absl::StatusOr<std::unique_ptr<MetricsHttpServer>> StartMetricsEndpoint(
    const std::string& host, int port, const MetricsRegistry* registry,
    const std::string& flag_name = "--metrics_port", std::function<bool()> ready = nullptr);

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_METRICS_METRICS_HTTP_SERVER_H_
