#ifndef TRIPLETSTREAM_CLIENT_STALL_WATCHDOG_H_
#define TRIPLETSTREAM_CLIENT_STALL_WATCHDOG_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace tripletstream {

class StallWatchdog;

// One reader's open call, as the watchdog and a canceller see it. The reader
// attaches each call's context, brackets every blocking Read with
// BeginWait/EndWait, and detaches the context before destroying it.
class CallSlot {
 public:
  ~CallSlot();
  CallSlot(const CallSlot&) = delete;
  CallSlot& operator=(const CallSlot&) = delete;

  // False (the context cancelled and not kept, so no Detach is needed) when
  // the slot was cancelled.
  bool Attach(grpc::ClientContext* context);
  void Detach();
  // Cheap (one atomic store each): called around every Read.
  void BeginWait();
  void EndWait();
  // True once if the watchdog cancelled the call since the last Attach.
  bool TakeStalled();
  // Cancels the attached call and every call attached later.
  void Cancel();

 private:
  friend class StallWatchdog;
  explicit CallSlot(StallWatchdog* watchdog) : watchdog_(watchdog) {}

  StallWatchdog* const watchdog_;
  std::atomic<int64_t> wait_started_ns_{0};  // 0 = not waiting.
  std::atomic<bool> stalled_{false};
  // Guarded by the watchdog's mutex.
  grpc::ClientContext* context_ = nullptr;
  bool cancelled_ = false;
};

// The progress deadline of streaming reads: a call whose current Read has
// waited longer than `timeout` is cancelled and its slot marked stalled, so
// its reader fails over as if the server had died. A frozen server (alive,
// socket open, silent) is found this way within `timeout`, without polling:
// the watchdog thread sleeps until the earliest deadline of the reads in
// progress. A timeout of zero or less disables the deadline (slots still
// cancel).
class StallWatchdog {
 public:
  explicit StallWatchdog(absl::Duration timeout);
  ~StallWatchdog();
  StallWatchdog(const StallWatchdog&) = delete;
  StallWatchdog& operator=(const StallWatchdog&) = delete;

  // A slot for one reader; it must be destroyed before the watchdog.
  std::unique_ptr<CallSlot> NewSlot();

  absl::Duration timeout() const { return timeout_; }

 private:
  friend class CallSlot;
  void Run();

  const absl::Duration timeout_;
  absl::Mutex mu_;
  std::list<CallSlot*> slots_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_CLIENT_STALL_WATCHDOG_H_
