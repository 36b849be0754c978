#include "metrics/metrics_registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "tests/testing/prometheus_text.h"

namespace tripletstream {
namespace {

using ::testing::HasSubstr;

TEST(MetricsRegistryTest, RendersParsableTextWithHelpTypeAndLabels) {
  MetricsRegistry registry;
  int64_t sent = 7;
  ASSERT_TRUE(registry
                  .AddValue("ts_sent_total", "Batches sent.", MetricType::kCounter,
                            [&] { return static_cast<double>(sent); })
                  .ok());
  ASSERT_TRUE(registry
                  .Add("ts_received_total", "Per server.", MetricType::kCounter,
                       [] {
                         return std::vector<MetricSample>{
                             {{{"server", "10.0.0.1:50051"}}, 3},
                             {{{"server", "[::1]:50051"}}, 4.5}};
                       })
                  .ok());
  ASSERT_TRUE(registry.AddValue("ts_eer_percent", "Not yet measured.", MetricType::kGauge,
                                [] { return std::nan(""); })
                  .ok());
  const std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("# HELP ts_sent_total Batches sent.\n# TYPE ts_sent_total "
                              "counter\nts_sent_total 7\n"));
  auto parsed = testing::ParsePrometheusText(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status() << "\n" << text;
  EXPECT_EQ(parsed->types.at("ts_received_total"), "counter");
  EXPECT_EQ(parsed->types.at("ts_eer_percent"), "gauge");
  EXPECT_EQ(parsed->Get("ts_received_total{server=\"10.0.0.1:50051\"}"), 3);
  EXPECT_EQ(parsed->Get("ts_received_total{server=\"[::1]:50051\"}"), 4.5);
  EXPECT_TRUE(std::isnan(parsed->Get("ts_eer_percent")));
  // Values are read at render time, not registration time.
  sent = 9;
  EXPECT_EQ(testing::ParsePrometheusText(registry.Render())->Get("ts_sent_total"), 9);
}

TEST(MetricsRegistryTest, EscapesHelpAndLabelValues) {
  MetricsRegistry registry;
  ASSERT_TRUE(registry
                  .Add("ts_odd", "Back\\slash and\nnewline.", MetricType::kGauge,
                       [] {
                         return std::vector<MetricSample>{{{{"path", "a\"b\\c\nd"}}, 1}};
                       })
                  .ok());
  const std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("# HELP ts_odd Back\\\\slash and\\nnewline.\n"));
  EXPECT_THAT(text, HasSubstr("ts_odd{path=\"a\\\"b\\\\c\\nd\"} 1\n"));
  EXPECT_TRUE(testing::ParsePrometheusText(text).ok()) << text;
}

TEST(MetricsRegistryTest, RejectsBadNamesCountersWithoutTotalAndDuplicates) {
  MetricsRegistry registry;
  auto one = [] { return 1.0; };
  EXPECT_THAT(registry.AddValue("1bad", "", MetricType::kGauge, one).message(),
              HasSubstr("invalid metric name '1bad'"));
  EXPECT_THAT(registry.AddValue("has-dash", "", MetricType::kGauge, one).message(),
              HasSubstr("invalid metric name"));
  EXPECT_THAT(registry.AddValue("ts_sent", "", MetricType::kCounter, one).message(),
              HasSubstr("must end in _total"));
  EXPECT_TRUE(registry.AddValue("ts_x", "", MetricType::kGauge, one).ok());
  EXPECT_THAT(registry.AddValue("ts_x", "", MetricType::kGauge, one).message(),
              HasSubstr("registered twice"));
}

TEST(PrometheusTextParserTest, RejectsMalformedExposition) {
  // The parser is what the endpoint tests trust: it must catch bad output.
  for (const char* bad : {"no_type 1\n", "# TYPE x gauge\nx\n", "# TYPE x gauge\nx one\n",
                          "# TYPE x gauge\nx{a=\"1} 1\n", "# TYPE x gauge\nx{a=1} 1\n",
                          "# TYPE x gauge\nx 1\nx 2\n", "# TYPE x sometype\n",
                          "# TYPE x gauge\n# TYPE x gauge\n", "# TYPE x gauge\nx{1a=\"v\"} 1\n"}) {
    EXPECT_FALSE(testing::ParsePrometheusText(bad).ok()) << bad;
  }
  EXPECT_TRUE(testing::ParsePrometheusText("# TYPE x gauge\nx{a=\"1\",b=\"\"} +Inf 123\n").ok());
}

}  // namespace
}  // namespace tripletstream
