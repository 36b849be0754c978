#include "metrics/metrics_http_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <chrono>

#include <glog/logging.h>

#include "absl/strings/str_cat.h"

namespace tripletstream {

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    const std::string& host, int port, const MetricsRegistry* registry) {
  if (port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("metrics port ", port, " out of range"));
  }
  std::unique_ptr<MetricsHttpServer> server(new MetricsHttpServer());
  server->http_ = std::make_unique<httplib::Server>();
  httplib::Server& http = *server->http_;
  http.Get("/metrics", [registry](const httplib::Request&, httplib::Response& response) {
    response.set_content(registry->Render(), kPrometheusTextContentType);
  });
  http.Get("/", [](const httplib::Request&, httplib::Response& response) {
    response.set_content("tripletstream metrics: GET /metrics\n", "text/plain");
  });
  // httplib's default sets SO_REUSEPORT too, which would let a second
  // process bind the same port and steal scrapes: reuse-address only.
  http.set_socket_options([](int socket) {
    int yes = 1;
    setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  const int bound = port == 0 ? http.bind_to_any_port(host)
                              : (http.bind_to_port(host, port) ? port : -1);
  if (bound <= 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen for metrics on ", host, ":",
                                               port, " (address in use?)"));
  }
  server->port_ = bound;
  server->thread_ = std::thread([&http] { http.listen_after_bind(); });
  // httplib's stop() is a no-op until the listener runs: wait for it so the
  // destructor can always stop it.
  while (!http.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return server;
}

MetricsHttpServer::~MetricsHttpServer() {
  if (http_ != nullptr) http_->stop();
  if (thread_.joinable()) thread_.join();
}

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> StartMetricsEndpoint(
    const std::string& host, int port, const MetricsRegistry* registry,
    const std::string& flag_name) {
  if (port == 0) return nullptr;
  if (port < -1 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag_name, " must be -1 (any free port), 0 (off) or a port, got ", port));
  }
  auto server = MetricsHttpServer::Start(host, port < 0 ? 0 : port, registry);
  if (!server.ok()) return server.status();
  LOG(INFO) << "metrics on http://" << host << ":" << (*server)->port() << "/metrics";
  return server;
}

}  // namespace tripletstream
