// The data server's Prometheus endpoint during a real loopback stream.
#include "server/server_metrics.h"

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "metrics/metrics_http_server.h"
#include "server/data_server.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/http_get.h"
#include "tests/testing/prometheus_text.h"
#include "tripletstream/v1/tripletstream.grpc.pb.h"

namespace tripletstream {
namespace {

absl::StatusOr<testing::ParsedMetrics> Scrape(int port) {
  auto response = testing::HttpGet(port, "/metrics");
  if (!response.ok()) return response.status();
  if (response->status != 200) return absl::InternalError("HTTP status not 200");
  return testing::ParsePrometheusText(response->body);
}

TEST(ServerMetricsTest, EndpointFollowsLoadingStreamingAndDraining) {
  // Large enough that the stream cannot finish inside transport buffers
  // while the client holds off reading.
  auto dataset = testing::LargePreparedDataset();
  ASSERT_NE(dataset, nullptr);
  DataServiceConfig config;
  config.producer_threads = 2;
  auto listening = DataServer::Listen(config, "127.0.0.1:0");
  ASSERT_TRUE(listening.ok());
  DataServer& server = **listening;
  MetricsRegistry registry;
  ASSERT_TRUE(RegisterServerMetrics(&server.stats(), &registry).ok());
  auto http = MetricsHttpServer::Start("127.0.0.1", 0, &registry);
  ASSERT_TRUE(http.ok());
  const int port = (*http)->port();

  auto loading = Scrape(port);
  ASSERT_TRUE(loading.ok()) << loading.status();
  EXPECT_EQ(loading->Get("tripletstream_server_serving"), 0);
  EXPECT_EQ(loading->types.at("tripletstream_server_batches_sent_total"), "counter");
  EXPECT_EQ(loading->types.at("tripletstream_server_queued_batches"), "gauge");

  server.stats().rows_skipped.store(3);  // As main.cc records the ingest.
  server.Serve(dataset);
  auto stub = v1::TripletStream::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(server.port()), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  v1::StreamTripletsRequest request;
  request.set_split(v1::SPLIT_TRAIN);
  request.set_mode(v1::SAMPLING_MODE_TRIPLET);
  request.set_batch_size(16);
  auto reader = stub->StreamTriplets(&context, request);
  v1::Batch batch;
  ASSERT_TRUE(reader->Read(&batch));
  // Mid-stream: one client connected, its producers alive.
  auto streaming = Scrape(port);
  ASSERT_TRUE(streaming.ok()) << streaming.status();
  EXPECT_EQ(streaming->Get("tripletstream_server_serving"), 1);
  EXPECT_EQ(streaming->Get("tripletstream_server_clients_connected"), 1);
  EXPECT_EQ(streaming->Get("tripletstream_server_streams_started_total"), 1);
  EXPECT_EQ(streaming->Get("tripletstream_server_rows_skipped"), 3);
  EXPECT_GE(streaming->Get("tripletstream_server_producer_threads"), 0);
  EXPECT_LE(streaming->Get("tripletstream_server_producer_threads"), 2);
  int64_t batches = 1;
  int64_t bytes = static_cast<int64_t>(batch.data().size());
  int64_t anchors = batch.labels_size() / 3;
  while (reader->Read(&batch)) {
    ++batches;
    bytes += static_cast<int64_t>(batch.data().size());
    anchors += batch.labels_size() / 3;
  }
  ASSERT_TRUE(reader->Finish().ok());

  server.Drain();
  auto drained = Scrape(port);
  ASSERT_TRUE(drained.ok()) << drained.status();
  EXPECT_EQ(drained->Get("tripletstream_server_serving"), 0);
  EXPECT_EQ(drained->Get("tripletstream_server_batches_sent_total"), batches);
  EXPECT_EQ(drained->Get("tripletstream_server_bytes_sent_total"), bytes);
  EXPECT_EQ(drained->Get("tripletstream_server_triplets_sent_total"), anchors);
  EXPECT_EQ(drained->Get("tripletstream_server_queued_batches"), 0);
  EXPECT_GE(drained->Get("tripletstream_server_triplets_per_second"), 0);
}

}  // namespace
}  // namespace tripletstream
