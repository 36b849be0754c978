#ifndef TRIPLETSTREAM_CLIENT_BATCH_STREAM_H_
#define TRIPLETSTREAM_CLIENT_BATCH_STREAM_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "client/client_options.h"
#include "client/epoch_reader.h"
#include "client/server_list.h"
#include "client/stall_watchdog.h"
#include "tripletstream/v1/tripletstream.pb.h"

namespace tripletstream {

struct BatchStreamOptions {
  // Server names as the user gave them (host:port, dns:///NAME:PORT,
  // ipv4:/ipv6: lists); resolved at Open and again for every epoch (when
  // the previous one is all received and its next one is opened ahead), so
  // servers added behind a name join at the next epoch.
  std::vector<std::string> servers;
  ServerResolver resolve;  // Null = ExpandServers.
  // Addresses of the first epoch when the caller has resolved the names
  // already (empty = resolve them at Open).
  std::vector<std::string> first_addresses;
  // Mode, sizes, seed, positive_other_session and expected_fingerprint;
  // split, epoch, start, shard and max_batches are the stream's to set.
  v1::StreamTripletsRequest request;
  // This reader is rank `rank` of `world_size` data-parallel readers: it
  // gets indices i = rank (mod world_size) of every epoch.
  int rank = 0;
  int world_size = 1;
  // Where to start (a checkpoint's position()), and how many epochs to
  // read from there (0 = until cancelled).
  int64_t start_epoch = 0;
  int64_t start_index = 0;
  int64_t epochs = 0;
  // Exclusive end index of the first epoch (0 = its end); with epochs = 1
  // this reads a window [start_index, end_index) of one epoch.
  int64_t end_index = 0;
  int prefetch_per_shard = 4;  // Batches buffered per server shard.
  // Also re-resolve the names every this many seconds within an epoch; when
  // the addresses changed, the rest of the epoch is re-split over the new
  // ones from the next batch index (buffered batches past it are dropped
  // and asked again), so servers that join serve within this bound and
  // servers that leave lose nothing. 0 = only at epoch boundaries.
  double resolve_interval_s = 0;
  ClientOptions client;
};

struct BatchStreamStats {
  // Batches handed out by Next(), per server address in first-seen order.
  std::vector<std::string> servers;
  std::vector<int64_t> batches_per_server;
  int64_t batches = 0;
  int64_t reconnects = 0;        // Streams re-opened on another server.
  int64_t stalls = 0;            // Of those, streams past the progress deadline.
  int64_t epochs_completed = 0;
  int64_t rebalances = 0;        // Mid-epoch re-splits over changed addresses.
  int64_t epochs_opened_ahead = 0;  // Epochs whose streams opened before their turn.
  double wait_seconds = 0;       // Time Next() blocked waiting for data.
};

// The position after the last batch handed out: where a resumed stream
// starts to see exactly the batches an uninterrupted one would.
struct StreamPosition {
  int64_t epoch = 0;
  int64_t next_index = 0;
};

// The training stream of one reader across epochs: batches in index order,
// each exactly once, from every server behind the names, with failover and
// a progress deadline (see EpochReader). It rolls over to the next epoch
// and re-resolves names itself, and keeps its own counters.
class BatchStream {
 public:
  // Resolves the servers and starts streaming. INVALID_ARGUMENT for bad
  // options, the resolver's error when no name resolves.
  static absl::StatusOr<std::unique_ptr<BatchStream>> Open(BatchStreamOptions options);
  ~BatchStream();
  BatchStream(const BatchStream&) = delete;
  BatchStream& operator=(const BatchStream&) = delete;

  // The next batch; OUT_OF_RANGE after the last of `epochs`; otherwise the
  // errors of EpochReader::Next (sticky). Not thread safe: one consumer.
  absl::StatusOr<std::unique_ptr<v1::Batch>> Next();

  // Hands a batch Next returned back for reuse (optional): the stream then
  // reads into its payload buffer again instead of allocating a new one.
  // Thread safe.
  void Recycle(std::unique_ptr<v1::Batch> batch) { pool_.Give(std::move(batch)); }

  // Thread safe, e.g. from a signal-handling thread: a blocked or later
  // Next returns CANCELLED promptly, whatever the servers do.
  void Cancel();

  StreamPosition position() const;
  BatchStreamStats stats() const;
  // The addresses the current epoch reads from.
  std::vector<std::string> servers() const;
  // True when every batch of the current epoch has arrived (its streams are
  // done). From the first shard that is, the next Next() opens the next
  // epoch's reader, if another epoch follows.
  bool CurrentEpochReceived() const;

 private:
  // A reader and, per server position in it, the counter of its address.
  struct EpochRead {
    std::unique_ptr<EpochReader> reader;
    std::vector<int> counter_of_server;
  };
  BatchStream(BatchStreamOptions options, std::vector<std::string> addresses);
  EpochRead NewReader(std::vector<std::string> addresses, int64_t epoch, int64_t start_index,
                      int64_t end_index, std::shared_ptr<ShardGates> start_after);
  // Makes `read` the current epoch's reader (epoch reader_epoch_, from
  // start_index).
  void Install(EpochRead read, int64_t start_index);
  void StartEpoch(std::vector<std::string> addresses, int64_t start_index, int64_t end_index);
  // Once a shard of the current epoch is all received and another epoch
  // follows, opens the next epoch's reader: its shard k streams as soon as
  // shard k of this epoch is received, so each server goes on to the next
  // epoch when it has sent its part of this one, while the buffered tail is
  // consumed (no idle gap at the boundary, no wait for the slowest server).
  void MaybeOpenNextEpoch();
  // The current names' addresses, or the last ones when resolution fails.
  std::vector<std::string> Reresolve();
  // With resolve_interval_s: re-splits the rest of the epoch when the
  // names' addresses changed since the last look.
  void MaybeRebalance();
  int CounterOf(const std::string& address) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::shared_ptr<grpc::Channel> ChannelTo(const std::string& address);

  const BatchStreamOptions options_;
  StallWatchdog watchdog_;
  BatchPool pool_;
  ReaderCounters counters_;
  mutable absl::Mutex mu_;
  std::unique_ptr<EpochReader> reader_ ABSL_GUARDED_BY(mu_);
  // The next epoch's reader, opened ahead by MaybeOpenNextEpoch.
  EpochRead next_ ABSL_GUARDED_BY(mu_);
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  // Per address, first-seen order; deque: counters keep their address.
  std::vector<std::string> addresses_ ABSL_GUARDED_BY(mu_);
  std::deque<std::atomic<int64_t>> delivered_;
  std::vector<int> counter_of_server_;  // Current reader's server -> counter.
  // One channel per address for the stream's life: epochs reuse connections.
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;
  std::atomic<int64_t> epoch_{0}, next_index_{0}, batches_{0}, epochs_completed_{0};
  std::atomic<int64_t> wait_ns_{0};
  int64_t reader_epoch_ = 0;
  int64_t reader_start_index_ = 0;
  int64_t delivered_this_epoch_ = 0;
  std::chrono::steady_clock::time_point last_resolve_;
  std::atomic<int64_t> rebalances_{0};
  std::atomic<int64_t> epochs_opened_ahead_{0};
};

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_CLIENT_BATCH_STREAM_H_
