#include "metrics/metrics_http_server.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "tests/testing/http_get.h"
#include "tests/testing/prometheus_text.h"

namespace tripletstream {
namespace {

using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

// Liveness bound for the pressure tests: generous, so they fail only when
// the endpoint is starved, never because a machine is slow.
constexpr auto kLiveness = std::chrono::seconds(20);
constexpr int kPressureConnections = 200;

// Plain TCP connections to 127.0.0.1:port (no HTTP client), closed on
// destruction.
class RawConnections {
 public:
  RawConnections() = default;
  RawConnections(const RawConnections&) = delete;
  RawConnections& operator=(const RawConnections&) = delete;
  ~RawConnections() { CloseAll(); }

  // Opens `n` more connections; the error names the failing call.
  ::testing::AssertionResult Open(int port, int n) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < n; ++i) {
      const int fd = socket(AF_INET, SOCK_STREAM, 0);
      if (fd < 0) return ::testing::AssertionFailure() << "socket: " << std::strerror(errno);
      if (connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
        const int error = errno;
        close(fd);
        return ::testing::AssertionFailure()
               << "connect #" << fds_.size() << ": " << std::strerror(error);
      }
      fds_.push_back(fd);
    }
    return ::testing::AssertionSuccess();
  }

  ::testing::AssertionResult SendToEach(std::string_view bytes) {
    for (int fd : fds_) {
      if (send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(bytes.size())) {
        return ::testing::AssertionFailure() << "send: " << std::strerror(errno);
      }
    }
    return ::testing::AssertionSuccess();
  }

  // How many connections the server still holds open once `deadline` has
  // passed or it has closed them all (end of stream or reset seen here).
  // Whatever the server sends before closing is read and dropped.
  int OpenAt(Clock::time_point deadline) {
    std::vector<int> open = fds_;
    while (!open.empty() && Clock::now() < deadline) {
      std::vector<pollfd> polled;
      for (int fd : open) polled.push_back({fd, POLLIN, 0});
      if (poll(polled.data(), polled.size(), 100) <= 0) continue;
      std::vector<int> still_open;
      for (const pollfd& p : polled) {
        if (p.revents == 0) {
          still_open.push_back(p.fd);
          continue;
        }
        char buffer[512];
        const ssize_t got = recv(p.fd, buffer, sizeof(buffer), MSG_DONTWAIT);
        if (got > 0 || (got < 0 && (errno == EAGAIN || errno == EINTR))) {
          still_open.push_back(p.fd);
        }
      }
      open.swap(still_open);
    }
    return static_cast<int>(open.size());
  }

  void CloseAll() {
    for (int fd : fds_) close(fd);
    fds_.clear();
  }

  size_t size() const { return fds_.size(); }
  int fd(size_t i) const { return fds_[i]; }

 private:
  std::vector<int> fds_;
};

// One HTTP response (status line, headers, Content-Length body) read from
// `fd`; what came before the server closed or went quiet for the liveness
// bound otherwise.
std::string ReadResponse(int fd) {
  std::string data;
  size_t body_start = std::string::npos;
  size_t length = 0;
  for (;;) {
    if (body_start == std::string::npos) {
      const size_t end = data.find("\r\n\r\n");
      if (end != std::string::npos) {
        body_start = end + 4;
        const size_t field = data.find("Content-Length: ");
        if (field != std::string::npos && field < end) {
          length = std::stoul(data.substr(field + std::strlen("Content-Length: ")));
        }
      }
    }
    if (body_start != std::string::npos && data.size() >= body_start + length) return data;
    pollfd polled{fd, POLLIN, 0};
    if (poll(&polled, 1, std::chrono::milliseconds(kLiveness).count()) <= 0) return data;
    char buffer[4096];
    const ssize_t got = recv(fd, buffer, sizeof(buffer), 0);
    if (got <= 0) return data;
    data.append(buffer, got);
  }
}

// GET /metrics, asked again until it answers or the liveness bound passes
// (each HttpGet gives up after 5 s). Not a speed check.
absl::StatusOr<testing::HttpResponse> GetMetricsWithinLiveness(int port) {
  const Clock::time_point deadline = Clock::now() + kLiveness;
  absl::StatusOr<testing::HttpResponse> response;
  do {
    response = testing::HttpGet(port, "/metrics");
  } while (!response.ok() && Clock::now() < deadline);
  return response;
}

TEST(MetricsHttpServerTest, ServesTheRegistryOnAPickedPort) {
  MetricsRegistry registry;
  int scrapes = 0;
  ASSERT_TRUE(registry
                  .AddValue("ts_scrapes_total", "Renders so far.", MetricType::kCounter,
                            [&] { return static_cast<double>(++scrapes); })
                  .ok());
  auto server = MetricsHttpServer::Start("127.0.0.1", 0, &registry);
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_GT((*server)->port(), 0);
  for (int i = 1; i <= 2; ++i) {
    auto response = testing::HttpGet((*server)->port(), "/metrics");
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, 200);
    EXPECT_THAT(response->content_type, HasSubstr("text/plain; version=0.0.4"));
    auto parsed = testing::ParsePrometheusText(response->body);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(parsed->Get("ts_scrapes_total"), i);
  }
  auto missing = testing::HttpGet((*server)->port(), "/nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
}

TEST(MetricsHttpServerTest, HealthzIsLivenessAndReadyzFollowsTheCallback) {
  MetricsRegistry registry;
  std::atomic<bool> ready{false};
  auto server = MetricsHttpServer::Start("127.0.0.1", 0, &registry, [&] { return ready.load(); });
  ASSERT_TRUE(server.ok()) << server.status();
  auto live = testing::HttpGet((*server)->port(), "/healthz");
  ASSERT_TRUE(live.ok()) << live.status();
  EXPECT_EQ(live->status, 200);
  auto not_ready = testing::HttpGet((*server)->port(), "/readyz");
  ASSERT_TRUE(not_ready.ok()) << not_ready.status();
  EXPECT_EQ(not_ready->status, 503);
  ready.store(true);
  auto now_ready = testing::HttpGet((*server)->port(), "/readyz");
  ASSERT_TRUE(now_ready.ok()) << now_ready.status();
  EXPECT_EQ(now_ready->status, 200);
  // Without a callback the endpoint is always ready.
  auto plain = MetricsHttpServer::Start("127.0.0.1", 0, &registry);
  ASSERT_TRUE(plain.ok());
  auto always = testing::HttpGet((*plain)->port(), "/readyz");
  ASSERT_TRUE(always.ok());
  EXPECT_EQ(always->status, 200);
}

TEST(MetricsHttpServerTest, StopsOnDestructionAndFreesThePort) {
  MetricsRegistry registry;
  int port = 0;
  {
    auto server = MetricsHttpServer::Start("127.0.0.1", 0, &registry);
    ASSERT_TRUE(server.ok());
    port = (*server)->port();
  }
  EXPECT_FALSE(testing::HttpGet(port, "/metrics").ok());
  // The same port can be bound again.
  auto again = MetricsHttpServer::Start("127.0.0.1", port, &registry);
  EXPECT_TRUE(again.ok()) << again.status();
}

TEST(MetricsHttpServerTest, PortInUseAndBadFlagValuesAreClearErrors) {
  MetricsRegistry registry;
  auto first = MetricsHttpServer::Start("127.0.0.1", 0, &registry);
  ASSERT_TRUE(first.ok());
  auto second = MetricsHttpServer::Start("127.0.0.1", (*first)->port(), &registry);
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(second.status().message(), HasSubstr("cannot listen for metrics"));
  auto off = StartMetricsEndpoint("127.0.0.1", 0, &registry);
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(*off, nullptr);
  auto bad = StartMetricsEndpoint("127.0.0.1", 70000, &registry, "--metrics_port");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("--metrics_port"));
}

TEST(MetricsHttpServerTest, KeepAliveConnectionServesSeveralScrapes) {
  MetricsRegistry registry;
  ASSERT_TRUE(registry
                  .AddValue("ts_up", "Always 1.", MetricType::kGauge, [] { return 1.0; })
                  .ok());
  auto server = MetricsHttpServer::Start("127.0.0.1", 0, &registry);
  ASSERT_TRUE(server.ok()) << server.status();
  RawConnections scraper;
  ASSERT_TRUE(scraper.Open((*server)->port(), 1));
  // Fewer than kMaxRequestsPerConnection, one connection as Prometheus does.
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(scraper.SendToEach("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    const std::string response = ReadResponse(scraper.fd(0));
    EXPECT_THAT(response, ::testing::StartsWith("HTTP/1.1 200")) << "scrape " << i;
    EXPECT_THAT(response, HasSubstr("ts_up 1")) << "scrape " << i;
  }
}

TEST(MetricsHttpServerTest, AnswersWhileManyIdleConnectionsAreHeldOpen) {
  MetricsRegistry registry;
  ASSERT_TRUE(registry
                  .AddValue("ts_up", "Always 1.", MetricType::kGauge, [] { return 1.0; })
                  .ok());
  auto server = MetricsHttpServer::Start("127.0.0.1", 0, &registry);
  ASSERT_TRUE(server.ok()) << server.status();
  // Declared after the server: closed before it stops.
  RawConnections idle;
  ASSERT_TRUE(idle.Open((*server)->port(), kPressureConnections));

  auto response = GetMetricsWithinLiveness((*server)->port());
  ASSERT_TRUE(response.ok()) << response.status() << " with " << idle.size()
                             << " idle connections open";
  EXPECT_EQ(response->status, 200);
  EXPECT_THAT(response->body, HasSubstr("ts_up 1"));
  // Connections that never send a request are let go, not held forever.
  EXPECT_EQ(idle.OpenAt(Clock::now() + kLiveness), 0);
  idle.CloseAll();
}

TEST(MetricsHttpServerTest, SlowLorisClientsDoNotBlockOthers) {
  MetricsRegistry registry;
  ASSERT_TRUE(registry
                  .AddValue("ts_up", "Always 1.", MetricType::kGauge, [] { return 1.0; })
                  .ok());
  auto server = MetricsHttpServer::Start("127.0.0.1", 0, &registry);
  ASSERT_TRUE(server.ok()) << server.status();
  RawConnections stalled;
  ASSERT_TRUE(stalled.Open((*server)->port(), kPressureConnections));
  // A partial request line, then nothing more.
  ASSERT_TRUE(stalled.SendToEach("GET /metr"));

  auto response = GetMetricsWithinLiveness((*server)->port());
  ASSERT_TRUE(response.ok()) << response.status() << " with " << stalled.size()
                             << " stalled requests open";
  EXPECT_EQ(response->status, 200);
  EXPECT_THAT(response->body, HasSubstr("ts_up 1"));
  // The stalled requests time out on the server side.
  EXPECT_EQ(stalled.OpenAt(Clock::now() + kLiveness), 0);
  stalled.CloseAll();
}

}  // namespace
}  // namespace tripletstream
