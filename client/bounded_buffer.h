#ifndef TRIPLETSTREAM_CLIENT_BOUNDED_BUFFER_H_
#define TRIPLETSTREAM_CLIENT_BOUNDED_BUFFER_H_

#include <cstddef>
#include <deque>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace tripletstream {

// A bounded FIFO between one producer thread and its consumer, in the manner
// of tf.data service's ThreadSafeBuffer. Elements are values or statuses: a
// non-OK element (say OUT_OF_RANGE at the end of a stream) stays at the head
// and every later Pop returns it. Cancel wakes every waiter, on both sides,
// with its status; nothing polls.
template <typename T>
class BoundedBuffer {
 public:
  explicit BoundedBuffer(size_t capacity) : capacity_(capacity < 1 ? 1 : capacity) {}
  BoundedBuffer(const BoundedBuffer&) = delete;
  BoundedBuffer& operator=(const BoundedBuffer&) = delete;

  // Blocks while the buffer is full. Returns the cancel status (and drops
  // `value`) once cancelled. A status element is accepted even when full,
  // so a producer can always report how it ended.
  absl::Status Push(absl::StatusOr<T> value) {
    absl::MutexLock lock(&mu_);
    if (value.ok()) {
      mu_.Await(absl::Condition(this, &BoundedBuffer::HasRoomOrCancelled));
    }
    if (!cancel_status_.ok()) return cancel_status_;
    items_.push_back(std::move(value));
    return absl::OkStatus();
  }

  // Blocks while the buffer is empty. The cancel status once cancelled.
  absl::StatusOr<T> Pop() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &BoundedBuffer::HasItemOrCancelled));
    if (!cancel_status_.ok()) return cancel_status_;
    if (!items_.front().ok()) return items_.front().status();
    absl::StatusOr<T> value = std::move(items_.front());
    items_.pop_front();
    return value;
  }

  // Wakes every blocked Push and Pop with `status` (not OK); later calls
  // return it at once. The first cancellation wins.
  void Cancel(absl::Status status) {
    absl::MutexLock lock(&mu_);
    if (cancel_status_.ok()) cancel_status_ = std::move(status);
  }

  size_t size() const {
    absl::MutexLock lock(&mu_);
    return items_.size();
  }

 private:
  bool HasRoomOrCancelled() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !cancel_status_.ok() || items_.size() < capacity_;
  }
  bool HasItemOrCancelled() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !cancel_status_.ok() || !items_.empty();
  }

  const size_t capacity_;
  mutable absl::Mutex mu_;
  std::deque<absl::StatusOr<T>> items_ ABSL_GUARDED_BY(mu_);
  absl::Status cancel_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_CLIENT_BOUNDED_BUFFER_H_
