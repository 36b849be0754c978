// GrpcService behind a real in-process gRPC server on 127.0.0.1:0, checked
// against the DataService it forwards to.
#include "server/grpc_service.h"

#include <gmock/gmock.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "server/data_service.h"
#include "server/pipeline_reaper.h"
#include "server/server_stats.h"
#include "tests/testing/fixtures.h"
#include "tripletstream/v1/tripletstream.grpc.pb.h"

namespace tripletstream {
namespace {

using ::testing::HasSubstr;

// Polls `condition` for up to 10 s (a liveness bound, not a timing check).
bool Eventually(const std::function<bool()>& condition) {
  for (int i = 0; i < 1000; ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

// A GrpcService forwarding to its own DataService, served on 127.0.0.1:0.
// Members are destroyed bottom-up: the gRPC server (cancelling open streams),
// the GrpcService, the reaper (joining retired producers), the DataService.
class ServiceUnderTest {
 public:
  // With `serving` false the GrpcService starts without a DataService, as
  // while a dataset loads; SetService() then connects it.
  ServiceUnderTest(std::shared_ptr<const PreparedDataset> dataset,
                   const DataServiceConfig& config, bool serving)
      : service_(std::move(dataset), config, &stats_),
        grpc_service_(serving ? &service_ : nullptr, &stats_, &reaper_) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&grpc_service_);
    builder.SetMaxSendMessageSize(-1);
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    server_ = builder.BuildAndStart();
    if (server_ == nullptr || port_ == 0) return;
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(-1);
    stub_ = v1::TripletStream::NewStub(grpc::CreateCustomChannel(
        "127.0.0.1:" + std::to_string(port_), grpc::InsecureChannelCredentials(), args));
  }

  ~ServiceUnderTest() {
    if (server_ != nullptr) {
      server_->Shutdown(std::chrono::system_clock::now());
      server_->Wait();
    }
  }

  bool ok() const { return stub_ != nullptr; }
  int port() const { return port_; }
  void SetService() { grpc_service_.SetService(&service_); }
  v1::TripletStream::Stub& stub() { return *stub_; }
  const DataService& service() const { return service_; }
  const ServerStats& stats() const { return stats_; }

  // No stream open and no producer thread left: every pipeline was retired
  // and destroyed.
  bool Idle() const {
    return stats_.active_streams.load() == 0 && stats_.producer_threads.load() == 0 &&
           stats_.queued_batches.load() == 0 && stats_.producers_busy.load() == 0;
  }

 private:
  ServerStats stats_;
  DataService service_;
  PipelineReaper reaper_;
  GrpcService grpc_service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::unique_ptr<v1::TripletStream::Stub> stub_;
};

// Every message of a finished server stream, serialized, and its status.
struct StreamResult {
  std::vector<std::string> messages;
  grpc::Status status;
};

template <typename Message>
StreamResult ReadAll(grpc::ClientReader<Message>* reader) {
  StreamResult result;
  Message message;
  while (reader->Read(&message)) result.messages.push_back(message.SerializeAsString());
  result.status = reader->Finish();
  return result;
}

StreamResult StreamTriplets(v1::TripletStream::Stub& stub,
                            const v1::StreamTripletsRequest& request) {
  grpc::ClientContext context;
  auto reader = stub.StreamTriplets(&context, request);
  return ReadAll(reader.get());
}

StreamResult StreamWindows(v1::TripletStream::Stub& stub,
                           const v1::StreamWindowsRequest& request) {
  grpc::ClientContext context;
  auto reader = stub.StreamWindows(&context, request);
  return ReadAll(reader.get());
}

// The messages a pipeline builds, in order, serialized: what the stream
// must deliver unchanged.
template <typename Message>
std::vector<std::string> Drain(absl::StatusOr<std::unique_ptr<ProducerPipeline<Message>>>
                                   pipeline) {
  EXPECT_TRUE(pipeline.ok()) << pipeline.status();
  std::vector<std::string> out;
  if (!pipeline.ok()) return out;
  (*pipeline)->Start();
  while (!(*pipeline)->Exhausted()) {
    Message* message = (*pipeline)->TryNext();
    if (message == nullptr) {
      std::this_thread::yield();
      continue;
    }
    out.push_back(message->SerializeAsString());
    (*pipeline)->Release(message);
  }
  return out;
}

v1::StreamTripletsRequest Triplets(int batch_size, uint64_t seed = 5) {
  v1::StreamTripletsRequest request;
  request.set_split(v1::SPLIT_TRAIN);
  request.set_mode(v1::SAMPLING_MODE_TRIPLET);
  request.set_batch_size(batch_size);
  request.set_seed(seed);
  return request;
}

v1::StreamWindowsRequest Windows(v1::Split split, int batch_size) {
  v1::StreamWindowsRequest request;
  request.set_split(split);
  request.set_batch_size(batch_size);
  return request;
}

DataServiceConfig Config(int threads, int buffers) {
  DataServiceConfig config;
  config.producer_threads = threads;
  config.buffers_per_thread = buffers;
  return config;
}

class GrpcServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dataset_ = testing::SmallPreparedDataset();
    ASSERT_NE(dataset_, nullptr);
  }

  std::unique_ptr<ServiceUnderTest> Start(const DataServiceConfig& config, bool serving = true) {
    auto server = std::make_unique<ServiceUnderTest>(dataset_, config, serving);
    EXPECT_TRUE(server->ok()) << "cannot start a gRPC server on 127.0.0.1:0";
    return server->ok() ? std::move(server) : nullptr;
  }

  std::shared_ptr<const PreparedDataset> dataset_;
};

TEST_F(GrpcServiceTest, EveryRpcIsUnavailableUntilSetService) {
  auto server = Start(Config(2, 2), /*serving=*/false);
  ASSERT_NE(server, nullptr);

  grpc::ClientContext info_context;
  v1::GetDatasetInfoResponse info;
  grpc::Status status =
      server->stub().GetDatasetInfo(&info_context, v1::GetDatasetInfoRequest(), &info);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status.error_message(), HasSubstr("loading"));

  StreamResult triplets = StreamTriplets(server->stub(), Triplets(4));
  EXPECT_EQ(triplets.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(triplets.messages.empty());
  StreamResult windows = StreamWindows(server->stub(), Windows(v1::SPLIT_TEST, 8));
  EXPECT_EQ(windows.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(windows.status.error_message(), HasSubstr("loading"));
  EXPECT_TRUE(windows.messages.empty());
  EXPECT_EQ(server->stats().streams_failed.load(), 2);
  EXPECT_TRUE(Eventually([&] { return server->Idle(); }));

  server->SetService();
  grpc::ClientContext served_context;
  EXPECT_TRUE(
      server->stub().GetDatasetInfo(&served_context, v1::GetDatasetInfoRequest(), &info).ok());
  StreamResult served = StreamWindows(server->stub(), Windows(v1::SPLIT_TEST, 8));
  EXPECT_TRUE(served.status.ok()) << served.status.error_message();
  const int64_t test_windows =
      static_cast<int64_t>(dataset_->windows.split(SplitId::kTest).windows.size());
  ASSERT_GT(test_windows, 0);
  EXPECT_EQ(static_cast<int64_t>(served.messages.size()), (test_windows + 7) / 8);
  EXPECT_EQ(server->stats().streams_failed.load(), 2);
}

TEST_F(GrpcServiceTest, GetDatasetInfoAnswersExactlyWhatTheServiceAnswers) {
  auto server = Start(Config(1, 2));
  ASSERT_NE(server, nullptr);
  for (int batch_size : {0, 16}) {
    v1::GetDatasetInfoRequest request;
    request.set_batch_size(batch_size);
    v1::GetDatasetInfoResponse direct;
    ASSERT_TRUE(server->service().GetDatasetInfo(request, &direct).ok());
    grpc::ClientContext context;
    v1::GetDatasetInfoResponse response;
    grpc::Status status = server->stub().GetDatasetInfo(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.SerializeAsString(), direct.SerializeAsString())
        << "batch_size " << batch_size;
  }

  v1::GetDatasetInfoRequest invalid;
  invalid.set_batch_size(-1);
  v1::GetDatasetInfoResponse ignored;
  absl::Status direct = server->service().GetDatasetInfo(invalid, &ignored);
  ASSERT_EQ(direct.code(), absl::StatusCode::kInvalidArgument);
  grpc::ClientContext context;
  v1::GetDatasetInfoResponse response;
  grpc::Status status = server->stub().GetDatasetInfo(&context, invalid, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), direct.message());
  EXPECT_THAT(status.error_message(), HasSubstr("batch_size"));
}

TEST_F(GrpcServiceTest, RejectedStreamsCarryTheServiceStatusNamingTheField) {
  auto server = Start(Config(2, 2));
  ASSERT_NE(server, nullptr);
  struct Case {
    std::string field;  // Named in the message.
    std::function<void(v1::StreamTripletsRequest*)> edit;
  };
  const std::vector<Case> triplet_cases = {
      {"split", [](auto* r) { r->set_split(v1::SPLIT_UNSPECIFIED); }},
      {"split", [](auto* r) { r->set_split(v1::SPLIT_TEST); }},
      {"mode", [](auto* r) { r->set_mode(v1::SAMPLING_MODE_UNSPECIFIED); }},
      {"batch_size", [](auto* r) { r->set_batch_size(0); }},
      {"batch_size", [](auto* r) { r->set_batch_size(4097); }},
      {"p", [](auto* r) {
         r->set_mode(v1::SAMPLING_MODE_PK);
         r->set_p(1);
         r->set_k(4);
       }},
      {"k", [](auto* r) {
         r->set_mode(v1::SAMPLING_MODE_PK);
         r->set_p(2);
         r->set_k(1);
       }},
      {"epoch", [](auto* r) { r->set_epoch(-1); }},
      {"start_index", [](auto* r) { r->set_start_index(-1); }},
      {"max_batches", [](auto* r) { r->set_max_batches(-1); }},
      {"shard.index", [](auto* r) {
         r->mutable_shard()->set_count(2);
         r->mutable_shard()->set_index(2);
       }},
      {"fingerprint", [](auto* r) { r->set_expected_fingerprint("0000000000000000"); }},
  };
  int rejected = 0;
  for (const Case& c : triplet_cases) {
    v1::StreamTripletsRequest request = Triplets(4);
    c.edit(&request);
    auto direct = server->service().NewTripletPipeline(request, nullptr);
    ASSERT_FALSE(direct.ok()) << c.field;
    StreamResult result = StreamTriplets(server->stub(), request);
    ++rejected;
    EXPECT_TRUE(result.messages.empty()) << c.field;
    EXPECT_EQ(static_cast<int>(result.status.error_code()),
              static_cast<int>(direct.status().code()))
        << c.field;
    EXPECT_EQ(result.status.error_message(), direct.status().message());
    EXPECT_THAT(result.status.error_message(), HasSubstr(c.field));
    EXPECT_NE(result.status.error_code(), grpc::StatusCode::OK);
  }

  const std::vector<std::pair<std::string, v1::StreamWindowsRequest>> window_cases = [] {
    std::vector<std::pair<std::string, v1::StreamWindowsRequest>> cases;
    cases.emplace_back("split", Windows(v1::SPLIT_UNSPECIFIED, 8));
    cases.emplace_back("split", Windows(static_cast<v1::Split>(9), 8));
    cases.emplace_back("batch_size", Windows(v1::SPLIT_TEST, 0));
    cases.emplace_back("batch_size", Windows(v1::SPLIT_TEST, 4097));
    v1::StreamWindowsRequest mismatch = Windows(v1::SPLIT_TEST, 8);
    mismatch.set_expected_fingerprint("0000000000000000");
    cases.emplace_back("fingerprint", mismatch);
    return cases;
  }();
  for (const auto& [field, request] : window_cases) {
    auto direct = server->service().NewWindowPipeline(request, nullptr);
    ASSERT_FALSE(direct.ok()) << field;
    StreamResult result = StreamWindows(server->stub(), request);
    ++rejected;
    EXPECT_TRUE(result.messages.empty()) << field;
    EXPECT_EQ(static_cast<int>(result.status.error_code()),
              static_cast<int>(direct.status().code()))
        << field;
    EXPECT_EQ(result.status.error_message(), direct.status().message());
    EXPECT_THAT(result.status.error_message(), HasSubstr(field));
  }

  // The codes the service documents: INVALID_ARGUMENT, and
  // FAILED_PRECONDITION for the fingerprint.
  StreamResult mismatch = StreamWindows(server->stub(), window_cases.back().second);
  ++rejected;
  EXPECT_EQ(mismatch.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  StreamResult zero = StreamTriplets(server->stub(), Triplets(0));
  ++rejected;
  EXPECT_EQ(zero.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  EXPECT_EQ(server->stats().streams_failed.load(), rejected);
  EXPECT_EQ(server->stats().batches_sent.load(), 0);
  EXPECT_EQ(server->stats().window_batches_sent.load(), 0);
  EXPECT_TRUE(Eventually([&] { return server->Idle(); }));
}

TEST_F(GrpcServiceTest, TripletStreamIsThePipelineOutputUnchanged) {
  auto server = Start(Config(2, 2));
  ASSERT_NE(server, nullptr);
  // Every request field reaches the service.
  v1::StreamTripletsRequest request;
  request.set_split(v1::SPLIT_TRAIN);
  request.set_mode(v1::SAMPLING_MODE_PK);
  request.set_p(3);
  request.set_k(2);
  request.set_seed(7);
  request.set_epoch(2);
  request.set_start_index(1);
  request.mutable_shard()->set_count(2);
  request.mutable_shard()->set_index(1);
  request.set_max_batches(4);
  request.set_positive_other_session(true);
  request.set_expected_fingerprint(FingerprintHex(dataset_->fingerprint));
  DataService reference(dataset_, Config(1, 2), nullptr);
  std::vector<std::string> expected = Drain(reference.NewTripletPipeline(request, nullptr));
  ASSERT_EQ(expected.size(), 4u);

  StreamResult result = StreamTriplets(server->stub(), request);
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(result.messages, expected);
  std::vector<int64_t> indices;
  for (const std::string& bytes : result.messages) {
    v1::Batch batch;
    ASSERT_TRUE(batch.ParseFromString(bytes));
    indices.push_back(batch.index());
  }
  EXPECT_EQ(indices, (std::vector<int64_t>{1, 3, 5, 7}));
}

// StreamTriplets parses its own request (a raw method): bytes that are not a
// StreamTripletsRequest are refused as such, and the server stays up.
TEST_F(GrpcServiceTest, MalformedTripletRequestIsInvalidArgument) {
  auto server = Start(Config(1, 2));
  ASSERT_NE(server, nullptr);
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server->port()),
                                     grpc::InsecureChannelCredentials());
  grpc::GenericStub generic(channel);
  // Field 1 as a length-delimited field running past the end.
  const std::string garbage("\x0a\xff\xff\xff\x0f\x01", 6);
  grpc::Slice slice(garbage);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ClientContext context;
  grpc::CompletionQueue cq;
  auto call = generic.PrepareCall(&context, "/tripletstream.v1.TripletStream/StreamTriplets", &cq);
  void* tag = nullptr;
  bool ok = false;
  call->StartCall(reinterpret_cast<void*>(1));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  call->Write(request, reinterpret_cast<void*>(2));
  ASSERT_TRUE(cq.Next(&tag, &ok));
  call->WritesDone(reinterpret_cast<void*>(3));
  ASSERT_TRUE(cq.Next(&tag, &ok));
  grpc::ByteBuffer response;
  call->Read(&response, reinterpret_cast<void*>(4));
  ASSERT_TRUE(cq.Next(&tag, &ok));
  EXPECT_FALSE(ok);  // No batch.
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("malformed StreamTripletsRequest"));
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  // A well-formed request on the same server still streams.
  StreamResult result = StreamTriplets(server->stub(), Triplets(8));
  EXPECT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_FALSE(result.messages.empty());
  EXPECT_TRUE(Eventually([&] { return server->Idle(); }));
}

TEST_F(GrpcServiceTest, WindowStreamIsThePipelineOutputUnchanged) {
  auto server = Start(Config(3, 2));
  ASSERT_NE(server, nullptr);
  DataService reference(dataset_, Config(1, 2), nullptr);
  for (v1::Split split : {v1::SPLIT_TRAIN, v1::SPLIT_TEST, v1::SPLIT_HOLDOUT}) {
    v1::StreamWindowsRequest request = Windows(split, 9);
    std::vector<std::string> expected = Drain(reference.NewWindowPipeline(request, nullptr));
    ASSERT_FALSE(expected.empty()) << "split " << split;
    StreamResult result = StreamWindows(server->stub(), request);
    ASSERT_TRUE(result.status.ok()) << result.status.error_message();
    EXPECT_EQ(result.messages, expected) << "split " << split;
  }
}

TEST_F(GrpcServiceTest, StreamsWithNothingToSendFinishOk) {
  auto server = Start(Config(2, 2));
  ASSERT_NE(server, nullptr);
  // The fixture's users go to train or test: the validation split is empty.
  ASSERT_TRUE(dataset_->windows.split(SplitId::kVal).windows.empty());
  StreamResult windows = StreamWindows(server->stub(), Windows(v1::SPLIT_VAL, 8));
  EXPECT_TRUE(windows.status.ok()) << windows.status.error_message();
  EXPECT_TRUE(windows.messages.empty());
  // Resuming past the end of the epoch.
  v1::StreamTripletsRequest past_end = Triplets(4);
  past_end.set_start_index(1000000);
  StreamResult triplets = StreamTriplets(server->stub(), past_end);
  EXPECT_TRUE(triplets.status.ok()) << triplets.status.error_message();
  EXPECT_TRUE(triplets.messages.empty());
  EXPECT_EQ(server->stats().streams_failed.load(), 0);
  EXPECT_TRUE(Eventually([&] { return server->Idle(); }));
}

TEST_F(GrpcServiceTest, OneBufferPerProducerStillDeliversEveryBatchInOrder) {
  // With a single buffer the writer holds the only message while it is in
  // flight, so the next one is never ready at OnWriteDone: every later write
  // is started by the producer that builds it.
  DataService reference(dataset_, Config(1, 2), nullptr);
  const v1::StreamTripletsRequest request = Triplets(4, /*seed=*/11);
  std::vector<std::string> expected = Drain(reference.NewTripletPipeline(request, nullptr));
  ASSERT_EQ(expected.size(), (170u + 3) / 4);
  for (int threads : {1, 3}) {
    auto server = Start(Config(threads, 1));
    ASSERT_NE(server, nullptr);
    StreamResult result = StreamTriplets(server->stub(), request);
    ASSERT_TRUE(result.status.ok()) << result.status.error_message();
    EXPECT_EQ(result.messages, expected) << threads << " producer threads";
    EXPECT_TRUE(Eventually([&] { return server->Idle(); }));
  }
}

TEST_F(GrpcServiceTest, StatsCountEveryMessageWritten) {
  auto server = Start(Config(2, 2));
  ASSERT_NE(server, nullptr);
  // PK: every label is an anchor.
  v1::StreamTripletsRequest pk;
  pk.set_split(v1::SPLIT_TRAIN);
  pk.set_mode(v1::SAMPLING_MODE_PK);
  pk.set_p(2);
  pk.set_k(3);
  StreamResult batches = StreamTriplets(server->stub(), pk);
  ASSERT_TRUE(batches.status.ok()) << batches.status.error_message();
  int64_t labels = 0;
  int64_t bytes = 0;
  for (const std::string& serialized : batches.messages) {
    v1::Batch batch;
    ASSERT_TRUE(batch.ParseFromString(serialized));
    labels += batch.labels_size();
    bytes += static_cast<int64_t>(batch.data().size());
  }
  ASSERT_FALSE(batches.messages.empty());
  EXPECT_EQ(server->stats().batches_sent.load(),
            static_cast<int64_t>(batches.messages.size()));
  EXPECT_EQ(server->stats().triplets_sent.load(), labels);
  EXPECT_EQ(server->stats().bytes_sent.load(), bytes);
  EXPECT_EQ(server->stats().window_batches_sent.load(), 0);

  // Triplets: three labels (anchor, positive, negative) per anchor.
  StreamResult triplets = StreamTriplets(server->stub(), Triplets(5));
  ASSERT_TRUE(triplets.status.ok()) << triplets.status.error_message();
  int64_t anchors = 0;
  for (const std::string& serialized : triplets.messages) {
    v1::Batch batch;
    ASSERT_TRUE(batch.ParseFromString(serialized));
    anchors += batch.labels_size() / 3;
    bytes += static_cast<int64_t>(batch.data().size());
  }
  ASSERT_FALSE(triplets.messages.empty());
  EXPECT_EQ(server->stats().batches_sent.load(),
            static_cast<int64_t>(batches.messages.size() + triplets.messages.size()));
  EXPECT_EQ(server->stats().triplets_sent.load(), labels + anchors);
  EXPECT_EQ(server->stats().bytes_sent.load(), bytes);

  // Windows have their own counter and add to the bytes.
  StreamResult windows = StreamWindows(server->stub(), Windows(v1::SPLIT_TEST, 6));
  ASSERT_TRUE(windows.status.ok()) << windows.status.error_message();
  for (const std::string& serialized : windows.messages) {
    v1::WindowBatch batch;
    ASSERT_TRUE(batch.ParseFromString(serialized));
    bytes += static_cast<int64_t>(batch.data().size());
  }
  EXPECT_FALSE(windows.messages.empty());
  EXPECT_EQ(server->stats().window_batches_sent.load(),
            static_cast<int64_t>(windows.messages.size()));
  EXPECT_EQ(server->stats().batches_sent.load(),
            static_cast<int64_t>(batches.messages.size() + triplets.messages.size()));
  EXPECT_EQ(server->stats().triplets_sent.load(), labels + anchors);
  EXPECT_EQ(server->stats().bytes_sent.load(), bytes);

  EXPECT_EQ(server->stats().streams_started.load(), 3);
  EXPECT_EQ(server->stats().streams_failed.load(), 0);
  EXPECT_TRUE(Eventually([&] { return server->Idle(); }));
}

TEST_F(GrpcServiceTest, InterleavedStreamsOnOneChannelStayIndependent) {
  auto server = Start(Config(2, 2));
  ASSERT_NE(server, nullptr);
  DataService reference(dataset_, Config(1, 2), nullptr);
  const v1::StreamTripletsRequest first = Triplets(8, /*seed=*/1);
  const v1::StreamTripletsRequest second = Triplets(8, /*seed=*/2);
  const v1::StreamWindowsRequest third = Windows(v1::SPLIT_TRAIN, 16);
  std::vector<std::string> expected_first = Drain(reference.NewTripletPipeline(first, nullptr));
  std::vector<std::string> expected_second =
      Drain(reference.NewTripletPipeline(second, nullptr));
  std::vector<std::string> expected_third = Drain(reference.NewWindowPipeline(third, nullptr));
  ASSERT_NE(expected_first, expected_second);

  grpc::ClientContext c1, c2, c3;
  auto r1 = server->stub().StreamTriplets(&c1, first);
  auto r2 = server->stub().StreamTriplets(&c2, second);
  auto r3 = server->stub().StreamWindows(&c3, third);
  std::vector<std::string> got_first, got_second, got_third;
  bool open1 = true, open2 = true, open3 = true;
  v1::Batch batch;
  v1::WindowBatch window_batch;
  // One message from each in turn.
  while (open1 || open2 || open3) {
    if (open1) {
      open1 = r1->Read(&batch);
      if (open1) got_first.push_back(batch.SerializeAsString());
    }
    if (open2) {
      open2 = r2->Read(&batch);
      if (open2) got_second.push_back(batch.SerializeAsString());
    }
    if (open3) {
      open3 = r3->Read(&window_batch);
      if (open3) got_third.push_back(window_batch.SerializeAsString());
    }
  }
  EXPECT_TRUE(r1->Finish().ok());
  EXPECT_TRUE(r2->Finish().ok());
  EXPECT_TRUE(r3->Finish().ok());
  EXPECT_EQ(got_first, expected_first);
  EXPECT_EQ(got_second, expected_second);
  EXPECT_EQ(got_third, expected_third);
  EXPECT_EQ(server->stats().streams_started.load(), 3);
  EXPECT_TRUE(Eventually([&] { return server->Idle(); }));
}

// A dataset whose epoch (~45 MB) cannot sit in transport buffers: a client
// that does not read really stalls the stream.
class GrpcServiceStallTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { large_ = testing::LargePreparedDataset(); }
  static void TearDownTestSuite() { large_.reset(); }
  // Triplet batches per training epoch of the large dataset.
  static int64_t EpochBatches(int batch_size) {
    const int64_t windows =
        static_cast<int64_t>(large_->windows.split(SplitId::kTrain).windows.size());
    return (windows + batch_size - 1) / batch_size;
  }

  static std::shared_ptr<const PreparedDataset> large_;
};

std::shared_ptr<const PreparedDataset> GrpcServiceStallTest::large_;

TEST_F(GrpcServiceStallTest, DeadlineEndsAStalledStreamAndStopsItsProducers) {
  ASSERT_NE(large_, nullptr);
  ServiceUnderTest server(large_, Config(2, 2), /*serving=*/true);
  ASSERT_TRUE(server.ok());
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
  auto reader = server.stub().StreamTriplets(&context, Triplets(16));
  // The client reads nothing; the server's side of the stream must still
  // end when the deadline passes, and its pipeline be retired.
  ASSERT_TRUE(Eventually([&] { return server.stats().streams_started.load() == 1; }));
  EXPECT_TRUE(Eventually([&] { return server.Idle(); }));
  v1::Batch batch;
  int64_t received = 0;
  while (reader->Read(&batch)) ++received;
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_LT(received, EpochBatches(16));
  EXPECT_LT(server.stats().batches_sent.load(), EpochBatches(16));
}

TEST_F(GrpcServiceStallTest, CancelledStreamsEndAndReleaseTheirProducers) {
  ASSERT_NE(large_, nullptr);
  ServiceUnderTest server(large_, Config(2, 2), /*serving=*/true);
  ASSERT_TRUE(server.ok());
  const int64_t per_epoch = EpochBatches(16);
  constexpr int kStreams = 4;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReader<v1::Batch>>> readers;
  for (int i = 0; i < kStreams; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    readers.push_back(server.stub().StreamTriplets(contexts.back().get(), Triplets(16, i)));
    v1::Batch batch;
    ASSERT_TRUE(readers.back()->Read(&batch)) << "stream " << i;
  }
  EXPECT_EQ(server.stats().active_streams.load(), kStreams);
  // The producers fill their buffers and wait on the stalled writers.
  EXPECT_TRUE(Eventually([&] { return server.stats().queued_batches.load() > 0; }));
  for (auto& context : contexts) context->TryCancel();
  EXPECT_TRUE(Eventually([&] { return server.Idle(); }));
  for (int i = 0; i < kStreams; ++i) {
    v1::Batch batch;
    int64_t received = 1;
    while (readers[i]->Read(&batch)) ++received;
    EXPECT_EQ(readers[i]->Finish().error_code(), grpc::StatusCode::CANCELLED) << "stream " << i;
    EXPECT_LT(received, per_epoch) << "stream " << i;
  }
  EXPECT_LT(server.stats().batches_sent.load(), kStreams * per_epoch);
  EXPECT_EQ(server.stats().streams_started.load(), kStreams);
  EXPECT_EQ(server.stats().streams_failed.load(), 0);
  // The server serves on.
  v1::StreamTripletsRequest short_stream = Triplets(16);
  short_stream.set_max_batches(3);
  StreamResult after = StreamTriplets(server.stub(), short_stream);
  EXPECT_TRUE(after.status.ok()) << after.status.error_message();
  EXPECT_EQ(after.messages.size(), 3u);
  EXPECT_TRUE(Eventually([&] { return server.Idle(); }));
}

}  // namespace
}  // namespace tripletstream
