// Both Prometheus endpoints scraped during a real loopback training run: a
// data server on 127.0.0.1:0 and Train() with its live metrics.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "metrics/metrics_http_server.h"
#include "server/data_server.h"
#include "server/server_metrics.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/http_get.h"
#include "tests/testing/prometheus_text.h"
#include "trainer/trainer_metrics.h"
#include "trainer/training.h"

namespace tripletstream {
namespace {

testing::ParsedMetrics Scrape(int port) {
  auto response = testing::HttpGet(port, "/metrics");
  EXPECT_TRUE(response.ok()) << response.status();
  if (!response.ok()) return {};
  EXPECT_EQ(response->status, 200);
  auto parsed = testing::ParsePrometheusText(response->body);
  EXPECT_TRUE(parsed.ok()) << parsed.status() << "\n" << response->body;
  return parsed.ok() ? *parsed : testing::ParsedMetrics();
}

TEST(MetricsEndpointTest, ServerAndTrainerEndpointsDuringATrainingRun) {
  auto server = DataServer::Start(testing::SmallPreparedDataset(), DataServiceConfig(),
                                  "127.0.0.1:0");
  ASSERT_TRUE(server.ok()) << server.status();
  MetricsRegistry server_registry;
  ASSERT_TRUE(RegisterServerMetrics(&(*server)->stats(), &server_registry).ok());
  auto server_http = MetricsHttpServer::Start("127.0.0.1", 0, &server_registry);
  ASSERT_TRUE(server_http.ok());

  TrainerMetrics live;
  MetricsRegistry trainer_registry;
  ASSERT_TRUE(live.Register(&trainer_registry).ok());
  auto trainer_http = MetricsHttpServer::Start("127.0.0.1", 0, &trainer_registry);
  ASSERT_TRUE(trainer_http.ok());

  const std::string address = "127.0.0.1:" + std::to_string((*server)->port());
  TrainConfig c;
  c.servers = {address};
  c.steps = 400;  // Long enough to be scraped mid-run on a loaded machine.
  c.batch_size = 8;
  c.warmup_steps = 3;
  c.model.channels = 8;
  c.model.levels = 2;
  c.model.embedding = 8;
  c.log_every = 0;
  c.checkpoint_every = 0;
  c.eval_at_end = true;
  TrainCollaborators with;
  with.live_metrics = &live;
  std::atomic<bool> done{false};
  absl::StatusOr<TrainResult> result;
  std::thread training([&] {
    result = Train(c, with);
    done = true;
  });

  // Scrape both endpoints while steps are being taken.
  int mid_run_scrapes = 0;
  while (!done) {
    if (live.steps() > 0 && live.steps() < c.steps) {
      testing::ParsedMetrics trainer = Scrape((*trainer_http)->port());
      testing::ParsedMetrics server_side = Scrape((*server_http)->port());
      if (!done) ++mid_run_scrapes;
      EXPECT_GT(trainer.Get("tripletstream_trainer_steps"), 0);
      EXPECT_GT(trainer.Get("tripletstream_trainer_step_seconds_total"), 0);
      EXPECT_GE(trainer.Get("tripletstream_trainer_data_stall_ratio"), 0);
      EXPECT_LE(trainer.Get("tripletstream_trainer_data_stall_ratio"), 1);
      EXPECT_EQ(server_side.Get("tripletstream_server_serving"), 1);
      // Scraped after the trainer: the server had sent at least that many,
      // less the one write the stream may have in flight (the server counts
      // a batch when gRPC completes its write, which can come after the
      // client has read it).
      EXPECT_GE(server_side.Get("tripletstream_server_batches_sent_total") + 1,
                trainer.Get("tripletstream_trainer_steps"));
      if (::testing::Test::HasFailure()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  training.join();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_GT(mid_run_scrapes, 0) << "training ended before a scrape";

  testing::ParsedMetrics trainer = Scrape((*trainer_http)->port());
  testing::ParsedMetrics server_side = Scrape((*server_http)->port());
  EXPECT_EQ(trainer.Get("tripletstream_trainer_steps"), c.steps);
  const double received =
      trainer.Get("tripletstream_trainer_batches_received_total{server=\"" + address + "\"}");
  EXPECT_GE(received, c.steps);  // Plus what was prefetched.
  EXPECT_EQ(trainer.Get("tripletstream_trainer_reconnects_total"), 0);
  EXPECT_NEAR(trainer.Get("tripletstream_trainer_eer_percent"), result->eer_pct, 1e-6);
  EXPECT_NEAR(trainer.Get("tripletstream_trainer_loss"), result->final_loss, 1e-6);
  // The server sent at least what the trainer received.
  EXPECT_GE(server_side.Get("tripletstream_server_batches_sent_total"), received);
  EXPECT_GT(server_side.Get("tripletstream_server_window_batches_sent_total"), 0);  // Eval.
}

}  // namespace
}  // namespace tripletstream
