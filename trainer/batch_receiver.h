#ifndef TRIPLETSTREAM_TRAINER_BATCH_RECEIVER_H_
#define TRIPLETSTREAM_TRAINER_BATCH_RECEIVER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "tripletstream/v1/tripletstream.pb.h"

namespace tripletstream {

struct ReceiverConfig {
  std::vector<std::string> servers;  // host:port or gRPC targets.
  // Mode, sizes, seed and flags of the stream; split, epoch, start, shard and
  // max_batches are set by the receiver.
  v1::StreamTripletsRequest request;
  int prefetch_per_shard = 4;     // Bounded prefetch: batches buffered per shard.
  double initial_backoff_s = 0.05;
  double max_backoff_s = 2.0;
  double give_up_after_s = 60;    // With no server reachable for this long.
};

struct ReceiverStats {
  std::vector<int64_t> batches_per_server;  // Parallel to config.servers.
  int64_t reconnects = 0;                   // Streams re-opened after a failure.
  double wait_seconds = 0;                  // Time Next() blocked (data stall).
};

// Receives one epoch of training batches from several data servers and hands
// them out strictly in index order, each exactly once.
//
// The epoch's indices are split into n shards (i % n == k), n = number of
// servers. One thread per shard streams its shard, normally from server k.
// When that stream fails, the thread asks the next server (round robin, with
// exponential backoff) for the same shard starting at the first index it has
// not received, so a dead server's batches are re-served by the others: none
// lost, none repeated. Every batch's index and digest are checked.
//
// Each shard buffers at most `prefetch_per_shard` batches (moodycamel queues
// with a semaphore as free list), so a slow trainer slows the servers.
class BatchReceiver {
 public:
  explicit BatchReceiver(ReceiverConfig config);
  ~BatchReceiver();
  BatchReceiver(const BatchReceiver&) = delete;
  BatchReceiver& operator=(const BatchReceiver&) = delete;

  // Starts streaming `epoch` from `start_index` (which must not exceed the
  // epoch's batch count). Call once.
  void Start(int64_t epoch, int64_t start_index);

  // The next batch in index order; OUT_OF_RANGE after the last batch of the
  // epoch; DATA_LOSS on a digest or index error; UNAVAILABLE when no server
  // could serve a shard within give_up_after_s; a server's permanent error
  // (e.g. INVALID_ARGUMENT) as is.
  absl::StatusOr<std::unique_ptr<v1::Batch>> Next();

  // Stops the shard threads (also done by the destructor).
  void Stop();

  ReceiverStats stats() const;

 private:
  struct Shard;
  void RunShard(Shard* shard);

  ReceiverConfig config_;
  int64_t epoch_ = 0;
  int64_t next_index_ = 0;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> reconnects_{0};
  std::vector<std::unique_ptr<std::atomic<int64_t>>> per_server_;
  double wait_seconds_ = 0;
};

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_TRAINER_BATCH_RECEIVER_H_
