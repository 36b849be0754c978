#include "client/stall_watchdog.h"

#include <algorithm>
#include <chrono>

namespace tripletstream {
namespace {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

CallSlot::~CallSlot() {
  absl::MutexLock lock(&watchdog_->mu_);
  watchdog_->slots_.remove(this);
}

bool CallSlot::Attach(grpc::ClientContext* context) {
  absl::MutexLock lock(&watchdog_->mu_);
  stalled_.store(false);
  wait_started_ns_.store(0);
  if (cancelled_) {
    // Not kept: the caller returns (destroying the context) without Detach.
    context->TryCancel();
    return false;
  }
  context_ = context;
  return true;
}

void CallSlot::Detach() {
  absl::MutexLock lock(&watchdog_->mu_);
  context_ = nullptr;
  wait_started_ns_.store(0);
}

void CallSlot::BeginWait() { wait_started_ns_.store(NowNs(), std::memory_order_relaxed); }

void CallSlot::EndWait() { wait_started_ns_.store(0, std::memory_order_relaxed); }

bool CallSlot::TakeStalled() { return stalled_.exchange(false); }

void CallSlot::Cancel() {
  absl::MutexLock lock(&watchdog_->mu_);
  cancelled_ = true;
  if (context_ != nullptr) context_->TryCancel();
}

StallWatchdog::StallWatchdog(absl::Duration timeout) : timeout_(timeout) {
  if (timeout_ > absl::ZeroDuration()) thread_ = std::thread([this] { Run(); });
}

StallWatchdog::~StallWatchdog() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

std::unique_ptr<CallSlot> StallWatchdog::NewSlot() {
  std::unique_ptr<CallSlot> slot(new CallSlot(this));
  absl::MutexLock lock(&mu_);
  slots_.push_back(slot.get());
  return slot;
}

void StallWatchdog::Run() {
  const int64_t timeout_ns = absl::ToInt64Nanoseconds(timeout_);
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    const int64_t now = NowNs();
    // A read that starts after this pass has a deadline after now + timeout,
    // so sleeping until the earliest deadline seen here misses none.
    int64_t wake = now + timeout_ns;
    for (CallSlot* slot : slots_) {
      const int64_t started = slot->wait_started_ns_.load(std::memory_order_relaxed);
      if (started == 0 || slot->context_ == nullptr || slot->stalled_.load()) continue;
      if (now - started >= timeout_ns) {
        slot->stalled_.store(true);
        slot->context_->TryCancel();
      } else {
        wake = std::min(wake, started + timeout_ns);
      }
    }
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::Nanoseconds(wake - now));
  }
}

}  // namespace tripletstream
