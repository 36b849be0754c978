#include "probe/stream_probe.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/digest.h"
#include "tripletstream/v1/tripletstream.grpc.pb.h"

namespace tripletstream {
namespace {

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

absl::Status FromGrpc(const grpc::Status& status, const std::string& target) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat(target, ": ", status.error_message()));
}

struct Received {
  int64_t index;
  uint64_t digest;
};

struct ServerOutcome {
  absl::Status status;
  std::vector<Received> received;
  int64_t triplets = 0;
  int64_t bytes = 0;
};

}  // namespace

absl::StatusOr<v1::GetDatasetInfoResponse> FetchDatasetInfo(const std::string& target,
                                                             double timeout_s) {
  auto stub = v1::TripletStream::NewStub(MakeChannel(target));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000)));
  v1::GetDatasetInfoRequest request;
  v1::GetDatasetInfoResponse response;
  grpc::Status status = stub->GetDatasetInfo(&context, request, &response);
  if (!status.ok()) return FromGrpc(status, target);
  return response;
}

absl::StatusOr<ProbeResult> RunProbe(const ProbeConfig& config) {
  const int n = static_cast<int>(config.servers.size());
  if (n == 0) return absl::InvalidArgumentError("no servers given");
  std::vector<ServerOutcome> outcomes(n);
  std::vector<std::thread> threads;
  const auto started = std::chrono::steady_clock::now();
  for (int k = 0; k < n; ++k) {
    threads.emplace_back([&, k] {
      ServerOutcome& out = outcomes[k];
      const std::string& target = config.servers[k];
      v1::StreamTripletsRequest request;
      request.set_split(v1::SPLIT_TRAIN);
      request.set_mode(config.mode);
      request.set_batch_size(config.batch_size);
      request.set_p(config.p);
      request.set_k(config.k);
      request.set_seed(config.seed);
      request.set_epoch(config.epoch);
      request.set_start_index(config.start);
      request.set_positive_other_session(config.positive_other_session);
      request.mutable_shard()->set_count(n);
      request.mutable_shard()->set_index(k);
      if (config.batches > 0) {
        // Indices of this shard within [start, start + batches).
        const int64_t first =
            config.start + ((k - config.start % n) % n + n) % n;
        const int64_t end = config.start + config.batches;
        const int64_t mine = first >= end ? 0 : (end - first + n - 1) / n;
        if (mine == 0) return;
        request.set_max_batches(mine);
      }
      auto stub = v1::TripletStream::NewStub(MakeChannel(target));
      grpc::ClientContext context;
      context.set_deadline(
          std::chrono::system_clock::now() +
          std::chrono::milliseconds(static_cast<int64_t>(config.timeout_s * 1000)));
      auto reader = stub->StreamTriplets(&context, request);
      v1::Batch batch;
      while (reader->Read(&batch)) {
        const uint64_t digest = PayloadDigest(batch.data().data(), batch.data().size(),
                                              batch.labels().data(), batch.labels_size());
        if (digest != batch.digest()) {
          out.status = absl::DataLossError(absl::StrCat(
              target, ": digest mismatch in batch ", batch.index()));
          context.TryCancel();
          break;
        }
        out.received.push_back({batch.index(), digest});
        out.triplets += batch.mode() == v1::SAMPLING_MODE_TRIPLET
                            ? batch.labels_size() / 3
                            : batch.labels_size();
        out.bytes += static_cast<int64_t>(batch.data().size());
        if (config.read_delay_ms > 0) {
          std::this_thread::sleep_for(std::chrono::microseconds(
              static_cast<int64_t>(config.read_delay_ms * 1000)));
        }
      }
      grpc::Status status = reader->Finish();
      if (out.status.ok() && !status.ok()) out.status = FromGrpc(status, target);
    });
  }
  for (std::thread& t : threads) t.join();
  ProbeResult result;
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::vector<Received> all;
  for (const ServerOutcome& out : outcomes) {
    if (!out.status.ok()) return out.status;
    result.batches_per_server.push_back(static_cast<int64_t>(out.received.size()));
    result.triplets += out.triplets;
    result.payload_bytes += out.bytes;
    all.insert(all.end(), out.received.begin(), out.received.end());
  }
  std::sort(all.begin(), all.end(),
            [](const Received& a, const Received& b) { return a.index < b.index; });
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i].index != config.start + static_cast<int64_t>(i)) {
      return absl::DataLossError(absl::StrCat(
          "expected batch index ", config.start + static_cast<int64_t>(i), ", got ",
          all[i].index, " (missing or repeated batch)"));
    }
    result.stream_digest = CombineDigest(result.stream_digest, all[i].digest);
  }
  result.batches = static_cast<int64_t>(all.size());
  if (config.batches > 0 && result.batches != config.batches) {
    return absl::OutOfRangeError(absl::StrCat(
        "asked for ", config.batches, " batches from index ", config.start,
        ", the epoch ended after ", result.batches));
  }
  return result;
}

}  // namespace tripletstream
