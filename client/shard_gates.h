#ifndef TRIPLETSTREAM_CLIENT_SHARD_GATES_H_
#define TRIPLETSTREAM_CLIENT_SHARD_GATES_H_

#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace tripletstream {

// Per-shard start signals between two epochs' readers: one epoch's reader
// opens gate k when its shard k has received everything (or when it goes
// away), and shard k of the next epoch waits for that gate before it opens
// its stream. So server k starts on the next epoch as soon as it has sent
// its part of this one, not when the slowest server has, and never serves
// both epochs' shards at once. Thread-safe.
class ShardGates {
 public:
  explicit ShardGates(int n) : n_(n > 0 ? n : 0), open_(n_, false) {}
  ShardGates(const ShardGates&) = delete;
  ShardGates& operator=(const ShardGates&) = delete;

  // Gates open now.
  int opened() const {
    absl::MutexLock lock(&mu_);
    return open_count_;
  }

  void Open(int k) {
    absl::MutexLock lock(&mu_);
    if (k >= 0 && k < n_ && !open_[k]) {
      open_[k] = true;
      ++open_count_;
    }
  }

  void OpenAll() {
    absl::MutexLock lock(&mu_);
    for (int k = 0; k < n_; ++k) open_[k] = true;
    open_count_ = n_;
  }

  // Blocks until gate k is open, or every gate when the waiting reader has
  // another number of shards (`waiter_shards`) than this one, so shard k
  // maps to no single server. False when interrupted.
  bool Wait(int k, int waiter_shards) {
    absl::MutexLock lock(&mu_);
    const bool one = waiter_shards == n_ && k >= 0 && k < n_;
    auto ready = [this, k, one]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return interrupted_ || (one ? static_cast<bool>(open_[k]) : open_count_ == n_);
    };
    mu_.Await(absl::Condition(&ready));
    return !interrupted_;
  }

  // Wakes every Wait, which then returns false (the waiting reader stops).
  void Interrupt() {
    absl::MutexLock lock(&mu_);
    interrupted_ = true;
  }

 private:
  const int n_;
  mutable absl::Mutex mu_;
  std::vector<bool> open_ ABSL_GUARDED_BY(mu_);
  int open_count_ ABSL_GUARDED_BY(mu_) = 0;
  bool interrupted_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_CLIENT_SHARD_GATES_H_
