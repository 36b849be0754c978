#include "trainer/batch_receiver.h"

#include <glog/logging.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "common/digest.h"
#include "concurrentqueue/blockingconcurrentqueue.h"
#include "tripletstream/v1/tripletstream.grpc.pb.h"

namespace tripletstream {
namespace {

using Clock = std::chrono::steady_clock;

// Errors that another attempt (or another server) may not see.
bool IsTransient(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return true;
    default:
      return false;
  }
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  // A restarted server is found again quickly.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

}  // namespace

struct BatchReceiver::Shard {
  struct Item {
    std::unique_ptr<v1::Batch> batch;
    absl::Status status;  // OUT_OF_RANGE marks the end of the shard.
  };
  int k = 0;
  int64_t next_index = 0;  // Next index this shard must receive.
  moodycamel::BlockingConcurrentQueue<Item> queue;
  moodycamel::LightweightSemaphore free_slots;
  std::mutex context_mu;
  grpc::ClientContext* context = nullptr;  // The open stream, for Stop().
  std::thread thread;
};

BatchReceiver::BatchReceiver(ReceiverConfig config) : config_(std::move(config)) {
  for (size_t i = 0; i < config_.servers.size(); ++i) {
    per_server_.push_back(std::make_unique<std::atomic<int64_t>>(0));
  }
}

BatchReceiver::~BatchReceiver() { Stop(); }

void BatchReceiver::Start(int64_t epoch, int64_t start_index) {
  CHECK(shards_.empty()) << "Start called twice";
  CHECK(!config_.servers.empty()) << "no servers";
  epoch_ = epoch;
  next_index_ = start_index;
  const int n = static_cast<int>(config_.servers.size());
  for (int k = 0; k < n; ++k) {
    auto shard = std::make_unique<Shard>();
    shard->k = k;
    // First index >= start_index in shard k.
    shard->next_index = start_index + ((k - start_index % n) % n + n) % n;
    shard->free_slots.signal(std::max(1, config_.prefetch_per_shard));
    shards_.push_back(std::move(shard));
  }
  for (auto& shard : shards_) {
    Shard* raw = shard.get();
    shard->thread = std::thread([this, raw] { RunShard(raw); });
  }
}

void BatchReceiver::RunShard(Shard* shard) {
  const int n = static_cast<int>(config_.servers.size());
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (const std::string& server : config_.servers) channels.push_back(MakeChannel(server));
  int server = shard->k;
  double backoff = config_.initial_backoff_s;
  Clock::time_point last_progress = Clock::now();
  auto fail = [&](absl::Status status) { shard->queue.enqueue({nullptr, std::move(status)}); };

  while (!stopping_.load()) {
    v1::StreamTripletsRequest request = config_.request;
    request.set_split(v1::SPLIT_TRAIN);
    request.set_epoch(epoch_);
    request.set_start_index(shard->next_index);
    request.mutable_shard()->set_count(n);
    request.mutable_shard()->set_index(shard->k);
    request.set_max_batches(0);
    auto stub = v1::TripletStream::NewStub(channels[server]);
    grpc::ClientContext context;
    {
      std::lock_guard<std::mutex> lock(shard->context_mu);
      if (stopping_.load()) return;
      shard->context = &context;
    }
    auto reader = stub->StreamTriplets(&context, request);
    auto batch = std::make_unique<v1::Batch>();
    absl::Status bad;
    while (reader->Read(batch.get())) {
      const uint64_t digest = PayloadDigest(batch->data().data(), batch->data().size(),
                                            batch->labels().data(), batch->labels_size());
      if (batch->index() != shard->next_index || batch->epoch() != epoch_ ||
          digest != batch->digest()) {
        bad = absl::DataLossError(absl::StrCat(
            config_.servers[server], ": expected batch ", shard->next_index, " of epoch ",
            epoch_, ", got batch ", batch->index(), " of epoch ", batch->epoch(),
            digest != batch->digest() ? " with a wrong digest" : ""));
        context.TryCancel();
        break;
      }
      // Bounded prefetch: wait for the trainer to take a batch.
      while (!shard->free_slots.wait(100000)) {
        if (stopping_.load()) {
          context.TryCancel();
          break;
        }
      }
      if (stopping_.load()) break;
      // Count before handing over, so stats() never lags behind Next().
      per_server_[server]->fetch_add(1, std::memory_order_relaxed);
      shard->queue.enqueue({std::move(batch), absl::OkStatus()});
      shard->next_index += n;
      backoff = config_.initial_backoff_s;
      last_progress = Clock::now();
      batch = std::make_unique<v1::Batch>();
    }
    grpc::Status status = reader->Finish();
    {
      std::lock_guard<std::mutex> lock(shard->context_mu);
      shard->context = nullptr;
    }
    if (stopping_.load()) return;
    if (!bad.ok()) return fail(bad);
    if (status.ok()) return fail(absl::OutOfRangeError("end of epoch"));
    if (!IsTransient(status.error_code())) {
      return fail(absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                               absl::StrCat(config_.servers[server], ": ",
                                            status.error_message())));
    }
    const double stalled =
        std::chrono::duration<double>(Clock::now() - last_progress).count();
    if (stalled > config_.give_up_after_s) {
      return fail(absl::UnavailableError(absl::StrCat(
          "shard ", shard->k, " of ", n, ": no server delivered for ", stalled,
          " s; last error from ", config_.servers[server], ": ", status.error_message())));
    }
    LOG(WARNING) << "shard " << shard->k << ": " << config_.servers[server] << " failed ("
                 << status.error_message() << "); re-requesting from batch "
                 << shard->next_index << " on " << config_.servers[(server + 1) % n];
    reconnects_.fetch_add(1);
    server = (server + 1) % n;
    const auto until = Clock::now() + std::chrono::duration<double>(backoff);
    while (Clock::now() < until && !stopping_.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    backoff = std::min(backoff * 2, config_.max_backoff_s);
  }
}

absl::StatusOr<std::unique_ptr<v1::Batch>> BatchReceiver::Next() {
  CHECK(!shards_.empty()) << "Next before Start";
  Shard& shard = *shards_[next_index_ % static_cast<int64_t>(shards_.size())];
  Shard::Item item;
  const Clock::time_point started = Clock::now();
  shard.queue.wait_dequeue(item);
  wait_seconds_ += std::chrono::duration<double>(Clock::now() - started).count();
  if (!item.status.ok()) {
    shard.queue.enqueue({nullptr, item.status});  // Stays at the head for later calls.
    return item.status;
  }
  shard.free_slots.signal();
  ++next_index_;
  return std::move(item.batch);
}

void BatchReceiver::Stop() {
  stopping_.store(true);
  for (auto& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard->context_mu);
    if (shard->context != nullptr) shard->context->TryCancel();
  }
  for (auto& shard : shards_) {
    if (shard->thread.joinable()) shard->thread.join();
  }
}

ReceiverStats BatchReceiver::stats() const {
  ReceiverStats stats;
  for (const auto& count : per_server_) stats.batches_per_server.push_back(count->load());
  stats.reconnects = reconnects_.load();
  stats.wait_seconds = wait_seconds_;
  return stats;
}

}  // namespace tripletstream
