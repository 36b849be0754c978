// Fuzzes the data server's request validation (server/data_service.h): a
// small synthetic dataset is prepared once (the tests' SmallPreparedDataset:
// 6 users x 3 sessions x 300 rows x 3 channels, window 32 stride 16); byte 0
// of the input picks the request type, the rest is parsed as a serialized
// v1::StreamTripletsRequest / v1::StreamWindowsRequest /
// v1::GetDatasetInfoRequest and handed to NewTripletPipeline /
// NewWindowPipeline / GetDatasetInfo. When a pipeline is returned, its first
// few messages are built (producer thread started, polled with a deadline).
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>

#include "glog/logging.h"
#include "google/protobuf/stubs/logging.h"
#include "server/data_service.h"
#include "tests/testing/fixtures.h"
#include "tripletstream/v1/tripletstream.pb.h"

namespace ts = tripletstream;

namespace {

constexpr int kMessages = 3;

ts::DataService& Service() {
  static ts::ServerStats* stats = new ts::ServerStats();
  static ts::DataService* service = [] {
    auto dataset = ts::testing::SmallPreparedDataset();
    if (dataset == nullptr) {
      std::fprintf(stderr, "cannot prepare the synthetic dataset\n");
      std::abort();
    }
    ts::DataServiceConfig config;
    config.producer_threads = 1;
    config.buffers_per_thread = 2;
    // Small enough that a fuzzed batch size cannot make one message huge.
    config.max_batch_size = 256;
    return new ts::DataService(dataset, config, stats);
  }();
  return *service;
}

template <typename Pipeline>
void Drain(Pipeline& pipeline) {
  pipeline.Start();
  int got = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (got < kMessages && !pipeline.Exhausted()) {
    auto* message = pipeline.TryNext();
    if (message == nullptr) {
      if (std::chrono::steady_clock::now() > deadline) {
        std::fprintf(stderr, "pipeline produced nothing for 5 s\n");
        std::abort();
      }
      std::this_thread::yield();
      continue;
    }
    (void)message->ByteSizeLong();
    pipeline.Release(message);
    ++got;
  }
  pipeline.Cancel();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  FLAGS_minloglevel = 3;  // glog: warnings about fuzzed input are expected.
  google::protobuf::SetLogHandler(nullptr);  // And protobuf's invalid UTF-8 errors.
  (void)Service();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t selector = data[0] % 3;
  ++data;
  --size;
  ts::DataService& service = Service();
  switch (selector) {
    case 0: {
      ts::v1::StreamTripletsRequest request;
      if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
      auto pipeline = service.NewTripletPipeline(request, nullptr);
      if (pipeline.ok()) Drain(**pipeline);
      break;
    }
    case 1: {
      ts::v1::StreamWindowsRequest request;
      if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
      auto pipeline = service.NewWindowPipeline(request, nullptr);
      if (pipeline.ok()) Drain(**pipeline);
      break;
    }
    case 2: {
      ts::v1::GetDatasetInfoRequest request;
      if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
      ts::v1::GetDatasetInfoResponse response;
      (void)service.GetDatasetInfo(request, &response);
      break;
    }
  }
  return 0;
}
