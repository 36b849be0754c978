#include "client/batch_stream.h"

#include <glog/logging.h>

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tripletstream {
namespace {

absl::Status Validate(const BatchStreamOptions& o) {
  if (o.servers.empty()) return absl::InvalidArgumentError("no servers given");
  if (o.world_size < 1 || o.rank < 0 || o.rank >= o.world_size) {
    return absl::InvalidArgumentError(absl::StrCat("rank must be in [0, world_size), got rank ",
                                                   o.rank, " of ", o.world_size));
  }
  // Bounded so that shard arithmetic (rounding up to a residue) cannot overflow.
  constexpr int64_t kMaxIndex = int64_t{1} << 62;
  if (o.start_epoch < 0 || o.start_index < 0 || o.epochs < 0 || o.end_index < 0 ||
      o.start_index > kMaxIndex || o.end_index > kMaxIndex) {
    return absl::InvalidArgumentError(
        "start_epoch, start_index, epochs and end_index must be >= 0 (indices < 2^62)");
  }
  if (o.prefetch_per_shard < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("prefetch_per_shard must be >= 1, got ", o.prefetch_per_shard));
  }
  if (!(o.resolve_interval_s >= 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("resolve_interval_s must be >= 0, got ", o.resolve_interval_s));
  }
  if (!(o.client.stall_timeout_s >= 0) || !(o.client.give_up_after_s >= 0)) {
    return absl::InvalidArgumentError("stall_timeout_s and give_up_after_s must be >= 0");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<BatchStream>> BatchStream::Open(BatchStreamOptions options) {
  if (absl::Status s = Validate(options); !s.ok()) return s;
  if (!options.resolve) options.resolve = ExpandServers;
  auto addresses = options.first_addresses.empty()
                       ? options.resolve(options.servers)
                       : absl::StatusOr<std::vector<std::string>>(options.first_addresses);
  if (!addresses.ok()) return addresses.status();
  if (addresses->empty()) {
    return absl::NotFoundError(
        absl::StrCat("no server address for ", absl::StrJoin(options.servers, ",")));
  }
  std::unique_ptr<BatchStream> stream(new BatchStream(std::move(options), *addresses));
  return stream;
}

BatchStream::BatchStream(BatchStreamOptions options, std::vector<std::string> addresses)
    : options_(std::move(options)),
      watchdog_(absl::Seconds(options_.client.stall_timeout_s)),
      // Enough for every buffered batch, the consumer's and one per reader.
      pool_(static_cast<size_t>(8 * (options_.prefetch_per_shard + 2))) {
  epoch_ = options_.start_epoch;
  next_index_ = options_.start_index;
  reader_epoch_ = options_.start_epoch;
  last_resolve_ = std::chrono::steady_clock::now();
  StartEpoch(std::move(addresses), options_.start_index, options_.end_index);
}

BatchStream::~BatchStream() {
  Cancel();
  std::unique_ptr<EpochReader> reader, next;
  {
    absl::MutexLock lock(&mu_);
    reader = std::move(reader_);
    next = std::move(next_.reader);
  }
}

void BatchStream::Cancel() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
  if (reader_ != nullptr) reader_->Cancel();
  if (next_.reader != nullptr) next_.reader->Cancel();
}

std::shared_ptr<grpc::Channel> BatchStream::ChannelTo(const std::string& address) {
  std::shared_ptr<grpc::Channel>& channel = channels_[address];
  if (channel == nullptr) channel = MakeChannel(address, options_.client.channel);
  return channel;
}

int BatchStream::CounterOf(const std::string& address) {
  for (size_t i = 0; i < addresses_.size(); ++i) {
    if (addresses_[i] == address) return static_cast<int>(i);
  }
  addresses_.push_back(address);
  delivered_.emplace_back(0);
  return static_cast<int>(addresses_.size() - 1);
}

BatchStream::EpochRead BatchStream::NewReader(std::vector<std::string> addresses,
                                              int64_t epoch, int64_t start_index,
                                              int64_t end_index,
                                              std::shared_ptr<ShardGates> start_after) {
  EpochPlan plan;
  plan.epoch = epoch;
  plan.start_index = start_index;
  plan.end_index = end_index;
  plan.rank = options_.rank;
  plan.world_size = options_.world_size;
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (const std::string& address : addresses) channels.push_back(ChannelTo(address));
  EpochRead read;
  read.reader = std::make_unique<EpochReader>(addresses, std::move(channels), options_.request,
                                              plan, options_.client,
                                              options_.prefetch_per_shard, &watchdog_, &pool_,
                                              &counters_, std::move(start_after));
  absl::MutexLock lock(&mu_);
  for (const std::string& address : addresses) {
    read.counter_of_server.push_back(CounterOf(address));
  }
  if (cancelled_) read.reader->Cancel();
  return read;
}

void BatchStream::Install(EpochRead read, int64_t start_index) {
  reader_start_index_ = start_index;
  delivered_this_epoch_ = 0;
  std::unique_ptr<EpochReader> old;  // Joined outside the lock.
  {
    absl::MutexLock lock(&mu_);
    counter_of_server_ = std::move(read.counter_of_server);
    old = std::move(reader_);
    reader_ = std::move(read.reader);
  }
}

void BatchStream::StartEpoch(std::vector<std::string> addresses, int64_t start_index,
                             int64_t end_index) {
  Install(NewReader(std::move(addresses), reader_epoch_, start_index, end_index, nullptr),
          start_index);
}

void BatchStream::MaybeOpenNextEpoch() {
  if (next_.reader != nullptr || !reader_->AnyReceived()) return;
  if (options_.epochs > 0 && epochs_completed_.load() + 1 >= options_.epochs) return;
  // Shard k of the next epoch streams once shard k of this one is received.
  EpochRead next = NewReader(Reresolve(), reader_epoch_ + 1, 0, 0, reader_->received_gates());
  epochs_opened_ahead_.fetch_add(1, std::memory_order_relaxed);
  absl::MutexLock lock(&mu_);
  next_ = std::move(next);
}

bool BatchStream::CurrentEpochReceived() const {
  absl::MutexLock lock(&mu_);
  return reader_ != nullptr && reader_->AllReceived();
}

std::vector<std::string> BatchStream::Reresolve() {
  last_resolve_ = std::chrono::steady_clock::now();
  std::vector<std::string> current = servers();
  auto refreshed = options_.resolve(options_.servers);
  if (!refreshed.ok() || refreshed->empty()) {
    LOG(WARNING) << "keeping the servers of the last epoch: "
                 << (refreshed.ok() ? "no address" : refreshed.status().ToString());
    return current;
  }
  if (*refreshed != current) {
    LOG(INFO) << "servers from epoch " << reader_epoch_ << ": "
              << absl::StrJoin(*refreshed, ", ");
  }
  return *refreshed;
}

void BatchStream::MaybeRebalance() {
  if (options_.resolve_interval_s <= 0 ||
      std::chrono::steady_clock::now() - last_resolve_ <
          std::chrono::duration<double>(options_.resolve_interval_s)) {
    return;
  }
  last_resolve_ = std::chrono::steady_clock::now();
  // All of this epoch is here already; the next one was opened ahead and
  // re-splits itself once it is current.
  if (reader_->AllReceived()) return;
  auto refreshed = options_.resolve(options_.servers);
  if (!refreshed.ok() || refreshed->empty() || *refreshed == servers()) return;
  // The rest of this epoch from the next index this reader has not handed
  // out; the first epoch keeps its end.
  const int64_t from = next_index_.load();
  const bool first_epoch = epochs_completed_.load() == 0;
  LOG(INFO) << "servers changed within epoch " << reader_epoch_ << " (now "
            << absl::StrJoin(*refreshed, ", ") << "): re-split from batch " << from;
  ++rebalances_;
  StartEpoch(*std::move(refreshed), from, first_epoch ? options_.end_index : 0);
}

absl::StatusOr<std::unique_ptr<v1::Batch>> BatchStream::Next() {
  for (;;) {
    if (reader_ == nullptr) {
      return absl::OutOfRangeError(
          absl::StrCat("end of stream after ", options_.epochs, " epoch(s)"));
    }
    MaybeRebalance();
    const auto started = std::chrono::steady_clock::now();
    absl::StatusOr<Delivery> item = reader_->Next();
    wait_ns_.fetch_add(std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::steady_clock::now() - started)
                           .count(),
                       std::memory_order_relaxed);
    if (item.ok()) {
      MaybeOpenNextEpoch();
      delivered_[counter_of_server_[item->server]].fetch_add(1, std::memory_order_relaxed);
      ++delivered_this_epoch_;
      batches_.fetch_add(1, std::memory_order_relaxed);
      next_index_.store(item->batch->index() + 1);
      return std::move(item->batch);
    }
    if (item.status().code() != absl::StatusCode::kOutOfRange) return item.status();
    if (delivered_this_epoch_ == 0 && reader_start_index_ <= options_.rank) {
      return absl::FailedPreconditionError(absl::StrCat(
          "epoch ", reader_epoch_, " has no batch for rank ", options_.rank, " of ",
          options_.world_size, " (fewer batches per epoch than ranks, or an empty split)"));
    }
    epochs_completed_.fetch_add(1);
    ++reader_epoch_;
    // The position moves to the next epoch only now: a checkpoint taken
    // after the last batch resumes at (epoch, last + 1), which is empty.
    epoch_.store(reader_epoch_);
    next_index_.store(0);
    if (options_.epochs > 0 && epochs_completed_.load() >= options_.epochs) {
      std::unique_ptr<EpochReader> last;
      {
        absl::MutexLock lock(&mu_);
        last = std::move(reader_);
      }
      continue;
    }
    EpochRead next;
    {
      absl::MutexLock lock(&mu_);
      next = std::exchange(next_, EpochRead());
    }
    if (next.reader != nullptr) {
      Install(std::move(next), 0);
    } else {
      StartEpoch(Reresolve(), 0, 0);
    }
  }
}

StreamPosition BatchStream::position() const {
  StreamPosition p;
  p.epoch = epoch_.load();
  p.next_index = next_index_.load();
  return p;
}

std::vector<std::string> BatchStream::servers() const {
  absl::MutexLock lock(&mu_);
  return reader_ != nullptr ? reader_->servers() : std::vector<std::string>();
}

BatchStreamStats BatchStream::stats() const {
  BatchStreamStats s;
  {
    absl::MutexLock lock(&mu_);
    s.servers = addresses_;
    s.epochs_opened_ahead = epochs_opened_ahead_.load(std::memory_order_relaxed);
    for (size_t i = 0; i < addresses_.size(); ++i) {
      s.batches_per_server.push_back(delivered_[i].load(std::memory_order_relaxed));
    }
  }
  s.batches = batches_.load(std::memory_order_relaxed);
  s.reconnects = counters_.reconnects.load();
  s.stalls = counters_.stalls.load();
  s.epochs_completed = epochs_completed_.load();
  s.rebalances = rebalances_.load(std::memory_order_relaxed);
  s.wait_seconds = wait_ns_.load(std::memory_order_relaxed) / 1e9;
  return s;
}

}  // namespace tripletstream
