#include "metrics/metrics_http_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <glog/logging.h>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace tripletstream {
namespace {

// Threads that stay when idle, and how long an idle thread beyond them lives.
constexpr size_t kKeptConnectionThreads = 2;
constexpr absl::Duration kConnectionThreadIdleExit = absl::Seconds(30);

// httplib's TaskQueue, one thread per connection. httplib hands each
// accepted connection to the queue at once and the task holds a thread
// until the connection is done, including while it waits for a request.
// The default ThreadPool has a fixed max(8, cores - 1) threads, so a few
// idle connections queued every later scrape behind their timeouts. Here a
// connection starts a thread of its own when no idle one is waiting, up to
// `max_threads` at once; further connections wait in order for a thread.
// Threads idle for `idle_exit` end, down to `kept_threads`.
class ConnectionThreads : public httplib::TaskQueue {
 public:
  ConnectionThreads(size_t max_threads, size_t kept_threads, absl::Duration idle_exit)
      : max_threads_(max_threads), kept_threads_(kept_threads), idle_exit_(idle_exit) {}
  ~ConnectionThreads() override { shutdown(); }
  ConnectionThreads(const ConnectionThreads&) = delete;
  ConnectionThreads& operator=(const ConnectionThreads&) = delete;

  // Called by httplib's listener thread only.
  void enqueue(std::function<void()> task) override {
    std::vector<std::thread> exited;
    {
      absl::MutexLock lock(&mu_);
      tasks_.push_back(std::move(task));
      if (tasks_.size() > idle_ && threads_.size() < max_threads_) StartThreadLocked();
      work_.Signal();
      exited.swap(exited_);
    }
    for (std::thread& thread : exited) thread.join();
  }

  // httplib calls this once its listener has stopped: the threads finish
  // the queued connections (which close at once since the server stopped)
  // and end.
  void shutdown() override {
    std::deque<std::function<void()>> orphaned;
    std::vector<std::thread> exited;
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
      work_.SignalAll();
      while (!threads_.empty()) thread_exited_.Wait(&mu_);
      // Left only when no thread could be started at all.
      orphaned.swap(tasks_);
      exited.swap(exited_);
    }
    for (std::thread& thread : exited) thread.join();
    for (std::function<void()>& task : orphaned) task();
  }

 private:
  void StartThreadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    try {
      std::thread thread([this] { Run(); });
      // Run() waits for mu_, so it finds itself in threads_.
      const std::thread::id id = thread.get_id();
      threads_.emplace(id, std::move(thread));
    } catch (const std::system_error& e) {
      // Out of threads: the connection waits for a running one.
      LOG_EVERY_N(WARNING, 100) << "metrics endpoint: cannot start a connection thread ("
                                << e.what() << "), " << threads_.size() << " running";
    }
  }

  void Run() {
    std::vector<std::thread> exited;
    mu_.Lock();
    for (;;) {
      ++idle_;
      bool timed_out = false;
      while (tasks_.empty() && !stopping_ && !timed_out) {
        timed_out = work_.WaitWithTimeout(&mu_, idle_exit_);
      }
      --idle_;
      if (!tasks_.empty()) {
        std::function<void()> task = std::move(tasks_.front());
        tasks_.pop_front();
        mu_.Unlock();
        task();
        task = nullptr;
        mu_.Lock();
        continue;
      }
      if (stopping_ || threads_.size() > kept_threads_) break;
    }
    // Hand this thread to the next enqueue() or exiting thread to join, and
    // join those that ended before it.
    exited.swap(exited_);
    auto self = threads_.find(std::this_thread::get_id());
    exited_.push_back(std::move(self->second));
    threads_.erase(self);
    thread_exited_.SignalAll();
    mu_.Unlock();
    for (std::thread& thread : exited) thread.join();
  }

  const size_t max_threads_;
  const size_t kept_threads_;
  const absl::Duration idle_exit_;

  absl::Mutex mu_;
  absl::CondVar work_;           // a task was queued, or stopping_
  absl::CondVar thread_exited_;  // a thread left threads_
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  std::unordered_map<std::thread::id, std::thread> threads_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> exited_ ABSL_GUARDED_BY(mu_);  // ended, not joined
  size_t idle_ ABSL_GUARDED_BY(mu_) = 0;  // threads waiting for a task
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

// httplib listens with a backlog of 5 (CPPHTTPLIB_LISTEN_BACKLOG, compiled
// into Debian's library). A burst of connections overflows that before the
// listener thread runs: the kernel drops the handshakes, which complete
// seconds later on retransmission, scrapes included. listen() again on the
// bound socket raises the backlog (the kernel caps it at somaxconn).
class HttpServer : public httplib::Server {
 public:
  bool RaiseListenBacklog(int backlog) { return ::listen(svr_sock_, backlog) == 0; }
};

constexpr int kListenBacklog = 1024;

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    const std::string& host, int port, const MetricsRegistry* registry,
    std::function<bool()> ready) {
  if (port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("metrics port ", port, " out of range"));
  }
  std::unique_ptr<MetricsHttpServer> server(new MetricsHttpServer());
  auto http_server = std::make_unique<HttpServer>();
  HttpServer& http = *http_server;
  server->http_ = std::move(http_server);
  http.Get("/metrics", [registry](const httplib::Request&, httplib::Response& response) {
    response.set_content(registry->Render(), kPrometheusTextContentType);
  });
  http.Get("/healthz", [](const httplib::Request&, httplib::Response& response) {
    response.set_content("ok\n", "text/plain");
  });
  http.Get("/readyz", [ready = std::move(ready)](const httplib::Request&,
                                                 httplib::Response& response) {
    const bool is_ready = ready == nullptr || ready();
    response.status = is_ready ? 200 : 503;
    response.set_content(is_ready ? "ready\n" : "not ready\n", "text/plain");
  });
  http.Get("/", [](const httplib::Request&, httplib::Response& response) {
    response.set_content("tripletstream: GET /metrics, /healthz, /readyz\n", "text/plain");
  });
  // Idle connections must not starve scrapes: see ConnectionThreads.
  http.new_task_queue = [] {
    return new ConnectionThreads(kMaxConnectionThreads, kKeptConnectionThreads,
                                 kConnectionThreadIdleExit);
  };
  // Waiting for a request, first or next on a keep-alive connection.
  http.set_keep_alive_timeout(kKeepAliveTimeoutSeconds);
  http.set_keep_alive_max_count(kMaxRequestsPerConnection);
  // Between reads within a request (a stalled request line or headers),
  // and between writes of the response.
  http.set_read_timeout(std::chrono::seconds(kReadTimeoutSeconds));
  http.set_write_timeout(std::chrono::seconds(kWriteTimeoutSeconds));
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
  if (!http.RaiseListenBacklog(kListenBacklog)) {
    PLOG(WARNING) << "metrics endpoint: cannot raise the listen backlog to " << kListenBacklog;
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
    const std::string& flag_name, std::function<bool()> ready) {
  if (port == 0) return nullptr;
  if (port < -1 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag_name, " must be -1 (any free port), 0 (off) or a port, got ", port));
  }
  auto server = MetricsHttpServer::Start(host, port < 0 ? 0 : port, registry, std::move(ready));
  if (!server.ok()) return server.status();
  LOG(INFO) << "metrics on http://" << host << ":" << (*server)->port() << "/metrics";
  return server;
}

}  // namespace tripletstream
