#include "client/epoch_reader.h"

#include <glog/logging.h>

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/wire.h"
#include "tripletstream/v1/tripletstream.grpc.pb.h"

namespace tripletstream {
namespace {

using Clock = std::chrono::steady_clock;

// Corrupted batches one shard asks another server for before failing.
constexpr int kMaxCorruptBatches = 2;

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

}  // namespace

struct EpochReader::Shard {
  Shard(int k, size_t capacity) : k(k), buffer(capacity) {}
  const int k;
  v1::IndexShard index_shard;
  int64_t next_index = 0;  // Next index this shard must receive.
  int64_t batches_per_epoch = 0;  // As the last batch said; 0 = none seen.
  BoundedBuffer<Delivery> buffer;
  std::unique_ptr<CallSlot> slot;
  std::thread thread;
};

EpochReader::EpochReader(std::vector<std::string> servers,
                         std::vector<std::shared_ptr<grpc::Channel>> channels,
                         const v1::StreamTripletsRequest& request, const EpochPlan& plan,
                         const ClientOptions& options, int prefetch_per_shard,
                         StallWatchdog* watchdog, BatchPool* pool,
                         ReaderCounters* counters, std::shared_ptr<ShardGates> start_after)
    : servers_(std::move(servers)),
      channels_(std::move(channels)),
      request_(request),
      plan_(plan),
      options_(options),
      pool_(pool),
      counters_(counters),
      start_after_(std::move(start_after)),
      received_(std::make_shared<ShardGates>(static_cast<int>(servers_.size()))) {
  CHECK(!servers_.empty() && channels_.size() == servers_.size());
  CHECK(plan_.world_size >= 1 && plan_.rank >= 0 && plan_.rank < plan_.world_size);
  const int n = static_cast<int>(servers_.size());
  const int64_t modulus = int64_t{plan_.world_size} * n;
  next_index_ = FirstIndexAtOrAfter(plan_.start_index, plan_.world_size, plan_.rank);
  for (int k = 0; k < n; ++k) {
    auto shard = std::make_unique<Shard>(k, static_cast<size_t>(prefetch_per_shard));
    shard->index_shard = ShardFor(plan_.rank, plan_.world_size, k, n);
    shard->next_index =
        FirstIndexAtOrAfter(plan_.start_index, modulus, shard->index_shard.index());
    shard->slot = watchdog->NewSlot();
    shards_.push_back(std::move(shard));
  }
  for (auto& shard : shards_) {
    Shard* raw = shard.get();
    shard->thread = std::thread([this, raw] { RunShard(raw); });
  }
}

EpochReader::~EpochReader() {
  Cancel();
  for (auto& shard : shards_) shard->thread.join();
  // Gone (finished, re-split or cancelled): the next epoch need not wait.
  received_->OpenAll();
}

void EpochReader::Cancel() {
  if (!cancelled_.HasBeenNotified()) cancelled_.Notify();
  if (start_after_ != nullptr) start_after_->Interrupt();
  for (auto& shard : shards_) {
    shard->slot->Cancel();
    shard->buffer.Cancel(absl::CancelledError("stream cancelled"));
  }
}

absl::StatusOr<Delivery> EpochReader::Next() {
  // The rank's j-th index, r + W*j, lives in shard j mod n.
  const int64_t j = (next_index_ - plan_.rank) / plan_.world_size;
  Shard& shard = *shards_[j % static_cast<int64_t>(shards_.size())];
  absl::StatusOr<Delivery> item = shard.buffer.Pop();
  if (item.ok()) next_index_ += plan_.world_size;
  return item;
}

bool EpochReader::SleepUnlessCancelled(double seconds) {
  return !cancelled_.WaitForNotificationWithTimeout(absl::Seconds(seconds));
}

void EpochReader::RunShard(Shard* shard) {
  const int n = static_cast<int>(servers_.size());
  // Cancel interrupts the wait; Next then sees the cancelled buffer.
  if (start_after_ != nullptr && !start_after_->Wait(shard->k, n)) return;
  int server = shard->k;
  double backoff = options_.initial_backoff_s;
  Clock::time_point last_progress = Clock::now();
  int corrupt_batches = 0;
  for (;;) {
    bool progressed = false;
    absl::Status status = StreamShard(shard, server, &progressed);
    if (cancelled_.HasBeenNotified()) return;
    if (progressed) {
      backoff = options_.initial_backoff_s;
      last_progress = Clock::now();
    }
    if (status.ok()) {
      received_->Open(shard->k);
      shard->buffer.Push(absl::OutOfRangeError("end of epoch")).IgnoreError();
      return;
    }
    // Batches are deterministic: another server can resend a corrupted one.
    // More than kMaxCorruptBatches in one shard is not the wire's doing.
    const bool resend = status.code() == absl::StatusCode::kDataLoss &&
                        ++corrupt_batches <= kMaxCorruptBatches;
    if (!IsTransient(status.code()) && !resend) {
      shard->buffer.Push(status).IgnoreError();
      return;
    }
    const double waited = Since(last_progress);
    if (waited > options_.give_up_after_s) {
      shard->buffer
          .Push(absl::UnavailableError(absl::StrCat(
              "shard ", shard->k, " of ", n, ": no server delivered for ",
              static_cast<int64_t>(waited), " s (give_up_after_s ", options_.give_up_after_s,
              "); last error: ", status.message())))
          .IgnoreError();
      return;
    }
    const int next = (server + 1) % n;
    LOG(WARNING) << "shard " << shard->k << " of epoch " << plan_.epoch << ": " << status
                 << "; re-requesting from batch " << shard->next_index << " on "
                 << servers_[next];
    counters_->reconnects.fetch_add(1);
    server = next;
    if (!SleepUnlessCancelled(backoff)) return;
    backoff = std::min(backoff * 2, options_.max_backoff_s);
  }
}

absl::Status EpochReader::StreamShard(Shard* shard, int server, bool* progressed) {
  const int64_t step = shard->index_shard.count();
  v1::StreamTripletsRequest request = request_;
  request.set_split(v1::SPLIT_TRAIN);
  request.set_epoch(plan_.epoch);
  request.set_start_index(shard->next_index);
  *request.mutable_shard() = shard->index_shard;
  request.set_max_batches(0);
  if (plan_.end_index > 0) {
    const int64_t remaining = CountBelow(shard->next_index, plan_.end_index, step);
    if (remaining == 0) return absl::OkStatus();
    request.set_max_batches(remaining);
  }
  auto stub = v1::TripletStream::NewStub(channels_[server]);
  grpc::ClientContext context;
  if (!shard->slot->Attach(&context)) return absl::CancelledError("stream cancelled");
  // Opening the call blocks until it is sent: on a frozen server, forever.
  shard->slot->BeginWait();
  auto reader = stub->StreamTriplets(&context, request);
  absl::Status bad;
  for (;;) {
    std::unique_ptr<v1::Batch> batch = pool_->Take();
    shard->slot->BeginWait();
    const bool more = reader->Read(batch.get());
    shard->slot->EndWait();
    if (!more) break;
    bad = CheckBatch(*batch, plan_.epoch, shard->next_index, options_.verify_digests);
    shard->batches_per_epoch = batch->batches_per_epoch();
    if (!bad.ok()) {
      bad = absl::DataLossError(absl::StrCat(servers_[server], ": ", bad.message()));
      context.TryCancel();
      break;
    }
    // Blocks while the consumer is behind: this is the back-pressure.
    if (!shard->buffer.Push(Delivery{std::move(batch), server}).ok()) {
      context.TryCancel();
      break;
    }
    shard->next_index += step;
    *progressed = true;
  }
  const grpc::Status status = reader->Finish();
  shard->slot->Detach();
  if (!bad.ok()) return bad;
  if (shard->slot->TakeStalled()) {
    counters_->stalls.fetch_add(1);
    return absl::UnavailableError(absl::StrCat(
        servers_[server], ": no batch for ", options_.stall_timeout_s,
        " s (stall_timeout_s): server frozen or overloaded"));
  }
  if (status.error_code() == grpc::StatusCode::OUT_OF_RANGE) {
    // OUT_OF_RANGE is this reader's own end-of-epoch marker: a server's must
    // not pass for it (the rest of the epoch would be skipped).
    return absl::FailedPreconditionError(
        absl::StrCat(servers_[server], ": OUT_OF_RANGE: ", status.error_message()));
  }
  if (!status.ok()) return FromGrpcStatus(status, servers_[server]);
  // A clean end must be the shard's end: batches name the epoch's size.
  int64_t end = shard->batches_per_epoch;
  if (plan_.end_index > 0 && (end == 0 || plan_.end_index < end)) end = plan_.end_index;
  if (end > 0 && shard->next_index < end) {
    return absl::UnavailableError(absl::StrCat(servers_[server], ": stream ended at batch ",
                                               shard->next_index, ", before ", end));
  }
  return absl::OkStatus();
}

}  // namespace tripletstream
