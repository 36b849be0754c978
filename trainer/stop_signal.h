#ifndef TRIPLETSTREAM_TRAINER_STOP_SIGNAL_H_
#define TRIPLETSTREAM_TRAINER_STOP_SIGNAL_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>

#include "absl/synchronization/mutex.h"

namespace tripletstream {

// A request to stop (SIGTERM) that also wakes whatever the run is blocked
// on: the run registers cancellers (e.g. BatchStream::Cancel) and Request
// calls them, so a trainer waiting on a frozen server still stops promptly.
class StopSignal {
 public:
  // Unregisters its canceller when destroyed; after that it is never called.
  class Registration {
   public:
    Registration(StopSignal* signal, int64_t id) : signal_(signal), id_(id) {}
    ~Registration() {
      absl::MutexLock lock(&signal_->mu_);
      signal_->cancellers_.erase(id_);
    }

   private:
    StopSignal* const signal_;
    const int64_t id_;
  };

  // Thread safe; idempotent. Cancellers run under a lock: they must be
  // quick and must not call back into this signal.
  void Request() {
    absl::MutexLock lock(&mu_);
    if (requested_.exchange(true)) return;
    for (auto& [id, cancel] : cancellers_) cancel();
  }
  bool requested() const { return requested_.load(); }

  // Runs `cancel` on Request (at once if already requested) while the
  // returned registration lives.
  [[nodiscard]] std::unique_ptr<Registration> OnRequest(std::function<void()> cancel) {
    absl::MutexLock lock(&mu_);
    if (requested_.load()) cancel();
    cancellers_.emplace(next_id_, std::move(cancel));
    return std::make_unique<Registration>(this, next_id_++);
  }

 private:
  absl::Mutex mu_;
  std::atomic<bool> requested_{false};
  std::map<int64_t, std::function<void()>> cancellers_ ABSL_GUARDED_BY(mu_);
  int64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_TRAINER_STOP_SIGNAL_H_
