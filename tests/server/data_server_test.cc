// A real gRPC server on 127.0.0.1:0 with real clients.
#include "server/data_server.h"

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "common/digest.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "client/dataset_client.h"
#include "probe/stream_probe.h"
#include "tests/testing/fixtures.h"
#include "tripletstream/v1/tripletstream.grpc.pb.h"

namespace tripletstream {
namespace {

using ::testing::HasSubstr;

class DataServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dataset_ = testing::SmallPreparedDataset();
    ASSERT_NE(dataset_, nullptr);
    server_ = StartServer(2);
  }

  std::unique_ptr<DataServer> StartServer(int threads) {
    DataServiceConfig config;
    config.producer_threads = threads;
    config.buffers_per_thread = 2;
    auto server = DataServer::Start(dataset_, config, "127.0.0.1:0");
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? *std::move(server) : nullptr;
  }

  std::string Address(const DataServer& server) const {
    return "127.0.0.1:" + std::to_string(server.port());
  }

  std::unique_ptr<v1::TripletStream::Stub> Stub() {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(-1);
    return v1::TripletStream::NewStub(grpc::CreateCustomChannel(
        Address(*server_), grpc::InsecureChannelCredentials(), args));
  }

  static v1::StreamTripletsRequest Triplets(int batch_size) {
    v1::StreamTripletsRequest request;
    request.set_split(v1::SPLIT_TRAIN);
    request.set_mode(v1::SAMPLING_MODE_TRIPLET);
    request.set_batch_size(batch_size);
    request.set_seed(5);
    return request;
  }

  // Polls `condition` for up to 10 s (a liveness bound, not a timing check).
  static bool Eventually(const std::function<bool()>& condition) {
    for (int i = 0; i < 1000; ++i) {
      if (condition()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return condition();
  }

  std::shared_ptr<const PreparedDataset> dataset_;
  std::unique_ptr<DataServer> server_;
};

TEST_F(DataServerTest, GetDatasetInfoDescribesTheData) {
  auto info = FetchDatasetInfo({Address(*server_)});
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->channel_names_size(), 3);
  EXPECT_EQ(info->user_names_size(), 6);
  EXPECT_EQ(info->splits(0).windows(), 170);
  EXPECT_EQ(info->fingerprint(), FingerprintHex(dataset_->fingerprint));
}

TEST_F(DataServerTest, StreamsTheWholeEpochInIndexOrderWithValidDigests) {
  auto stub = Stub();
  grpc::ClientContext context;
  auto reader = stub->StreamTriplets(&context, Triplets(16));
  v1::Batch batch;
  int64_t expected = 0;
  while (reader->Read(&batch)) {
    EXPECT_EQ(batch.index(), expected++);
    EXPECT_EQ(batch.digest(), PayloadDigest(batch.data().data(), batch.data().size(),
                                            batch.labels().data(), batch.labels_size()));
    EXPECT_EQ(batch.batches_per_epoch(), (170 + 15) / 16);
  }
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(expected, (170 + 15) / 16);
}

TEST_F(DataServerTest, ThreeShardedServersGiveTheOneServerStream) {
  auto second = StartServer(1);
  auto third = StartServer(3);
  ProbeConfig config;
  config.stream.request.set_mode(v1::SAMPLING_MODE_TRIPLET);
  config.stream.request.set_batch_size(4);
  config.stream.request.set_seed(9);
  config.stream.epochs = 1;
  config.stream.servers = {Address(*server_)};
  auto one = RunProbe(config);
  ASSERT_TRUE(one.ok()) << one.status();
  config.stream.servers = {Address(*server_), Address(*second), Address(*third)};
  auto three = RunProbe(config);
  ASSERT_TRUE(three.ok()) << three.status();
  EXPECT_EQ(one->batches, (170 + 3) / 4);
  EXPECT_EQ(three->batches, one->batches);
  EXPECT_EQ(three->stream_digest, one->stream_digest);
  EXPECT_EQ(three->stats.batches_per_server, (std::vector<int64_t>{15, 14, 14}));
  config.stream.request.set_seed(10);
  auto other = RunProbe(config);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->stream_digest, one->stream_digest);
}

TEST_F(DataServerTest, StreamWindowsSendsEveryWindowOnceInOrder) {
  auto stub = Stub();
  for (int split = v1::SPLIT_TRAIN; split <= v1::SPLIT_HOLDOUT; ++split) {
    grpc::ClientContext context;
    v1::StreamWindowsRequest request;
    request.set_split(static_cast<v1::Split>(split));
    request.set_batch_size(7);
    auto reader = stub->StreamWindows(&context, request);
    const SplitWindows& windows = dataset_->windows.split(static_cast<SplitId>(split - 1));
    v1::WindowBatch batch;
    int64_t next = 0;
    while (reader->Read(&batch)) {
      EXPECT_EQ(batch.first_window(), next);
      const float* data = reinterpret_cast<const float*>(batch.data().data());
      for (int i = 0; i < batch.user_labels_size(); ++i) {
        const WindowRef& w = windows.windows[next + i];
        EXPECT_EQ(batch.user_labels(i), dataset_->data.series[w.series].user);
        EXPECT_EQ(batch.session_labels(i), dataset_->data.series[w.series].session);
        EXPECT_EQ(batch.offsets(i), w.offset);
        EXPECT_EQ(data[i * dataset_->window_floats()], dataset_->WindowData(w)[0]);
      }
      next += batch.user_labels_size();
    }
    ASSERT_TRUE(reader->Finish().ok());
    EXPECT_EQ(next, static_cast<int64_t>(windows.windows.size())) << "split " << split;
  }
}

TEST_F(DataServerTest, InvalidRequestsGetInvalidArgumentWithAReason) {
  auto stub = Stub();
  grpc::ClientContext context;
  v1::StreamTripletsRequest request = Triplets(0);
  auto reader = stub->StreamTriplets(&context, request);
  v1::Batch batch;
  EXPECT_FALSE(reader->Read(&batch));
  grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("batch_size"));

  grpc::ClientContext window_context;
  v1::StreamWindowsRequest windows;  // split unset
  windows.set_batch_size(8);
  auto window_reader = stub->StreamWindows(&window_context, windows);
  v1::WindowBatch window_batch;
  EXPECT_FALSE(window_reader->Read(&window_batch));
  EXPECT_EQ(window_reader->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(DataServerTest, SlowClientKeepsServerBuffersBounded) {
  dataset_ = testing::LargePreparedDataset();
  ASSERT_NE(dataset_, nullptr);
  server_ = StartServer(2);
  ASSERT_NE(server_, nullptr);
  // A small, fixed receive window: the transport holds little, so the
  // server's writer waits on the client.
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetInt("grpc.http2.bdp_probe", 0);
  args.SetInt("grpc.http2.lookahead_bytes", 64 * 1024);
  auto stub = v1::TripletStream::NewStub(grpc::CreateCustomChannel(
      Address(*server_), grpc::InsecureChannelCredentials(), args));
  grpc::ClientContext context;
  auto reader = stub->StreamTriplets(&context, Triplets(16));
  v1::Batch batch;
  ASSERT_TRUE(reader->Read(&batch));
  const int64_t total = batch.batches_per_epoch();
  ASSERT_GT(total, 100);
  // The client stops reading: the producers fill all their buffers (2
  // threads x 2) and block, however long the client waits: one buffer sits
  // in the write the transport cannot finish, the other three are queued.
  EXPECT_TRUE(Eventually([&] { return server_->stats().queued_batches.load() == 3; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(server_->stats().queued_batches.load(), 3);
  EXPECT_LT(server_->stats().batches_sent.load(), total / 2);
  // Then it reads the rest: every batch arrives, in order.
  int64_t received = 1;
  int64_t expected_index = batch.index() + 1;
  while (reader->Read(&batch)) {
    EXPECT_EQ(batch.index(), expected_index++);
    ++received;
    EXPECT_LE(server_->stats().queued_batches.load(), 4);
  }
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(received, total);
  EXPECT_TRUE(Eventually([&] { return server_->stats().queued_batches.load() == 0; }));
}

TEST_F(DataServerTest, ClientCancellationStopsTheStream) {
  auto stub = Stub();
  auto context = std::make_unique<grpc::ClientContext>();
  auto reader = stub->StreamTriplets(context.get(), Triplets(1));
  v1::Batch batch;
  ASSERT_TRUE(reader->Read(&batch));
  ASSERT_TRUE(reader->Read(&batch));
  EXPECT_EQ(server_->stats().active_streams.load(), 1);
  context->TryCancel();
  while (reader->Read(&batch)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  // The server-side stream ends (and its producers stop) even though the
  // epoch was not read; the whole epoch may already sit in transport buffers.
  EXPECT_TRUE(Eventually([&] { return server_->stats().active_streams.load() == 0; }));
}

TEST_F(DataServerTest, ShutdownWhileStreamingEndsTheStreamAndReturns) {
  auto stub = Stub();
  grpc::ClientContext context;
  auto reader = stub->StreamTriplets(&context, Triplets(1));
  v1::Batch batch;
  ASSERT_TRUE(reader->Read(&batch));
  std::thread stopper([&] { server_->Shutdown(absl::Milliseconds(100)); });
  int64_t received = 1;
  while (reader->Read(&batch)) {
    ++received;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  grpc::Status status = reader->Finish();
  stopper.join();
  // Either the client finished the stream within the grace period or the
  // server cancelled it; it must not hang, crash or report success early.
  // A cancellation can land after the last batch was written but before the
  // OK trailer, so a cancelled stream may still hold every batch.
  if (status.ok()) {
    EXPECT_EQ(received, 170);
  } else {
    EXPECT_TRUE(status.error_code() == grpc::StatusCode::CANCELLED ||
                status.error_code() == grpc::StatusCode::UNAVAILABLE)
        << status.error_code() << ": " << status.error_message();
    EXPECT_LE(received, 170);
  }
  EXPECT_EQ(server_->stats().active_streams.load(), 0);
}

grpc::health::v1::HealthCheckResponse::ServingStatus HealthOf(int port,
                                                              const std::string& service) {
  auto health = grpc::health::v1::Health::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = health->Check(&context, request, &response);
  EXPECT_TRUE(status.ok()) << service << ": " << status.error_message();
  return response.status();
}

constexpr const char* kHealthServices[] = {"", "tripletstream.v1.TripletStream"};

TEST_F(DataServerTest, HealthServiceReportsServing) {
  for (const char* service : kHealthServices) {
    EXPECT_EQ(HealthOf(server_->port(), service),
              grpc::health::v1::HealthCheckResponse::SERVING);
  }
  EXPECT_TRUE(server_->stats().serving.load());
}

TEST_F(DataServerTest, NotServingWhileTheDatasetLoads) {
  auto listening = DataServer::Listen(DataServiceConfig(), "127.0.0.1:0");
  ASSERT_TRUE(listening.ok()) << listening.status();
  DataServer& server = **listening;
  for (const char* service : kHealthServices) {
    EXPECT_EQ(HealthOf(server.port(), service),
              grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  }
  EXPECT_FALSE(server.stats().serving.load());
  // RPCs say why instead of hanging or crashing.
  auto info = FetchDatasetInfo({Address(server)});
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(info.status().message(), HasSubstr("still loading"));
  auto stub = v1::TripletStream::NewStub(
      grpc::CreateChannel(Address(server), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  auto reader = stub->StreamTriplets(&context, Triplets(4));
  v1::Batch batch;
  EXPECT_FALSE(reader->Read(&batch));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);

  server.Serve(dataset_);
  for (const char* service : kHealthServices) {
    EXPECT_EQ(HealthOf(server.port(), service),
              grpc::health::v1::HealthCheckResponse::SERVING);
  }
  EXPECT_TRUE(FetchDatasetInfo({Address(server)}).ok());
}

TEST_F(DataServerTest, DrainingReportsNotServingButFinishesOpenStreams) {
  auto stub = Stub();
  grpc::ClientContext context;
  auto reader = stub->StreamTriplets(&context, Triplets(1));
  v1::Batch batch;
  ASSERT_TRUE(reader->Read(&batch));
  server_->Drain();
  for (const char* service : kHealthServices) {
    EXPECT_EQ(HealthOf(server_->port(), service),
              grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  }
  EXPECT_FALSE(server_->stats().serving.load());
  int64_t received = 1;
  while (reader->Read(&batch)) ++received;
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(received, 170);
}

}  // namespace
}  // namespace tripletstream

namespace tripletstream {
namespace {

TEST(DataServerListenTest, APortInUseIsAnErrorNotACrash) {
  auto first = DataServer::Listen(DataServiceConfig(), "127.0.0.1:0");
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string taken = "127.0.0.1:" + std::to_string((*first)->port());
  auto second = DataServer::Listen(DataServiceConfig(), taken);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(second.status().message(), ::testing::HasSubstr(taken));
}

}  // namespace
}  // namespace tripletstream
