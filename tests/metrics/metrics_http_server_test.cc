#include "metrics/metrics_http_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/http_get.h"
#include "tests/testing/prometheus_text.h"

namespace tripletstream {
namespace {

using ::testing::HasSubstr;

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

}  // namespace
}  // namespace tripletstream
