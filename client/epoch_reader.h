#ifndef TRIPLETSTREAM_CLIENT_EPOCH_READER_H_
#define TRIPLETSTREAM_CLIENT_EPOCH_READER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "client/batch_pool.h"
#include "client/bounded_buffer.h"
#include "client/client_options.h"
#include "client/shard_gates.h"
#include "client/stall_watchdog.h"
#include "tripletstream/v1/tripletstream.pb.h"

namespace tripletstream {

// What one epoch of one rank reads.
struct EpochPlan {
  int64_t epoch = 0;
  int64_t start_index = 0;  // First batch index (any value; the rank's share from there).
  int64_t end_index = 0;    // Exclusive; 0 = the end of the epoch.
  int rank = 0;
  int world_size = 1;
};

// Counters an EpochReader adds to; owned by its BatchStream, they outlive
// the reader.
struct ReaderCounters {
  std::atomic<int64_t> reconnects{0};  // Streams re-opened after a failure.
  std::atomic<int64_t> stalls{0};      // Streams cancelled by the progress deadline.
};

// A received batch and the position in `servers` of the server that sent it.
struct Delivery {
  std::unique_ptr<v1::Batch> batch;
  int server = 0;
};

// Reads one epoch's share of one rank from n servers, in index order,
// each index exactly once.
//
// Rank r of W reads indices i = r (mod W). Shard k of the n shards holds
// i = r + W*k (mod W*n) (common/wire.h ShardFor), streamed by one thread,
// normally from server k. When that stream fails, stalls past the progress
// deadline or is refused transiently, the thread asks the next server (round
// robin, exponential backoff) for the same shard from its first missing
// index: nothing lost, nothing repeated. Every batch's epoch, index, shape
// and digest are checked. Each shard buffers at most `prefetch_per_shard`
// batches, so a slow consumer slows the servers.
class EpochReader {
 public:
  // `channels` are parallel to `servers`. With `start_after` (the previous
  // epoch's received_gates()), shard k opens its stream only once gate k
  // is open: the previous epoch's shard k has received everything.
  EpochReader(std::vector<std::string> servers,
              std::vector<std::shared_ptr<grpc::Channel>> channels,
              const v1::StreamTripletsRequest& request, const EpochPlan& plan,
              const ClientOptions& options, int prefetch_per_shard, StallWatchdog* watchdog,
              BatchPool* pool, ReaderCounters* counters,
              std::shared_ptr<ShardGates> start_after = nullptr);
  ~EpochReader();  // Cancels and joins.
  EpochReader(const EpochReader&) = delete;
  EpochReader& operator=(const EpochReader&) = delete;

  // The next batch of the plan; OUT_OF_RANGE after the last; DATA_LOSS on a
  // bad batch; UNAVAILABLE when no server delivered a shard for
  // give_up_after_s; a server's permanent error as it is; CANCELLED after
  // Cancel.
  absl::StatusOr<Delivery> Next();
  // Thread safe: wakes Next and stops the shard threads.
  void Cancel();

  const std::vector<std::string>& servers() const { return servers_; }

  // True once every shard's stream has completed: the rest of the epoch is
  // buffered here and the servers have nothing more to send for it.
  bool AllReceived() const {
    return received_->opened() == static_cast<int>(shards_.size());
  }
  // True once some shard's stream has completed.
  bool AnyReceived() const { return received_->opened() > 0; }
  // Gate k opens when shard k has received everything, and every gate when
  // this reader is destroyed: what the next epoch's reader starts after.
  std::shared_ptr<ShardGates> received_gates() const { return received_; }

 private:
  struct Shard;
  void RunShard(Shard* shard);
  // One stream of a shard from `server`; OK when the shard is complete.
  absl::Status StreamShard(Shard* shard, int server, bool* progressed);
  bool SleepUnlessCancelled(double seconds);

  const std::vector<std::string> servers_;
  const std::vector<std::shared_ptr<grpc::Channel>> channels_;
  const v1::StreamTripletsRequest request_;
  const EpochPlan plan_;
  const ClientOptions options_;
  BatchPool* const pool_;
  ReaderCounters* const counters_;
  int64_t next_index_ = 0;
  std::vector<std::unique_ptr<Shard>> shards_;
  absl::Notification cancelled_;
  std::shared_ptr<ShardGates> start_after_;
  std::shared_ptr<ShardGates> received_;
};

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_CLIENT_EPOCH_READER_H_
