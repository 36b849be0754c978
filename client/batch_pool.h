#ifndef TRIPLETSTREAM_CLIENT_BATCH_POOL_H_
#define TRIPLETSTREAM_CLIENT_BATCH_POOL_H_

#include <cstddef>
#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "tripletstream/v1/tripletstream.pb.h"

namespace tripletstream {

// Batch messages handed back by the consumer for the shard threads to read
// into again. Parsing into a used message reuses its payload string, so a
// steady stream allocates (and page-faults) no new multi-megabyte buffers.
class BatchPool {
 public:
  explicit BatchPool(size_t capacity) : capacity_(capacity) {}

  // A used message when there is one, else a new one.
  std::unique_ptr<v1::Batch> Take() {
    {
      absl::MutexLock lock(&mu_);
      if (!free_.empty()) {
        std::unique_ptr<v1::Batch> batch = std::move(free_.back());
        free_.pop_back();
        return batch;
      }
    }
    return std::make_unique<v1::Batch>();
  }

  // Keeps `batch` for reuse (dropped beyond the capacity).
  void Give(std::unique_ptr<v1::Batch> batch) {
    if (batch == nullptr) return;
    absl::MutexLock lock(&mu_);
    if (free_.size() < capacity_) free_.push_back(std::move(batch));
  }

 private:
  const size_t capacity_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<v1::Batch>> free_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_CLIENT_BATCH_POOL_H_
