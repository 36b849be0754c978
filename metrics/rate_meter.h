#ifndef TRIPLETSTREAM_METRICS_RATE_METER_H_
#define TRIPLETSTREAM_METRICS_RATE_METER_H_

#include <chrono>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace tripletstream {

// Turns a monotonically growing count into a per-second rate for gauges:
// each Rate(count) call that comes at least `min_interval` after the last
// update measures (count delta) / (time delta); calls in between return the
// last rate. Thread-safe.
class RateMeter {
 public:
  using Clock = std::chrono::steady_clock;

  explicit RateMeter(std::chrono::milliseconds min_interval = std::chrono::seconds(1))
      : min_interval_(min_interval), last_time_(Clock::now()) {}

  double Rate(int64_t count) { return RateAt(count, Clock::now()); }

  double RateAt(int64_t count, Clock::time_point now) {
    absl::MutexLock lock(&mu_);
    const auto elapsed = now - last_time_;
    if (elapsed >= min_interval_) {
      rate_ = (count - last_count_) / std::chrono::duration<double>(elapsed).count();
      last_count_ = count;
      last_time_ = now;
    }
    return rate_;
  }

 private:
  const std::chrono::milliseconds min_interval_;
  absl::Mutex mu_;
  Clock::time_point last_time_ ABSL_GUARDED_BY(mu_);
  int64_t last_count_ ABSL_GUARDED_BY(mu_) = 0;
  double rate_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_METRICS_RATE_METER_H_
