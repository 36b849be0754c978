// ThreadSanitizer builds only (scripts/sanitize.sh tsan): makes Debian's
// uninstrumented absl::Mutex, absl::CondVar and absl::Notification visible to
// TSan. Their synchronization happens inside libabsl_synchronization.so,
// which is not built with -fsanitize=thread, so without this every variable
// guarded by an absl::Mutex is reported as a race.
//
// This shared library is linked before libabsl into every binary of a TSan
// build, so the dynamic linker resolves these members here; each calls the
// library's own (dlsym RTLD_NEXT) and tells TSan what it did with
// __tsan_acquire / __tsan_release on the mutex's address: a lock acquires,
// an unlock releases, a wait releases and re-acquires, and an await's
// condition is evaluated after an acquire (the library evaluates it under
// the lock it re-took). This file itself is compiled without TSan
// instrumentation (the library reads the wrapper conditions it builds on
// other threads, ordered by the library); the project code its conditions
// call is instrumented as usual.
#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <cstdio>
#include <cstdlib>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"

namespace {

template <typename F>
F Real(const char* mangled) {
  void* f = dlsym(RTLD_NEXT, mangled);
  if (f == nullptr) {
    std::fprintf(stderr, "tsan_absl_annotations: %s not found: %s\n", mangled, dlerror());
    std::abort();
  }
  return reinterpret_cast<F>(f);
}

#define TS_REAL(type, mangled) static const auto real = Real<type>(mangled)

void Acquire(const void* p) { __tsan_acquire(const_cast<void*>(p)); }
void Release(const void* p) { __tsan_release(const_cast<void*>(p)); }

// A condition evaluated by the library with `mu` re-taken: acquire first.
struct AnnotatedCondition {
  const absl::Condition* condition;
  const absl::Mutex* mu;
  // Under the lock, on whichever thread the library evaluates it: acquire
  // before reading the guarded state, release after, as a locked section.
  static bool Eval(AnnotatedCondition* self) {
    Acquire(self->mu);
    const bool met = self->condition->Eval();
    Release(self->mu);
    return met;
  }
};

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

void Mutex::Lock() {
  TS_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex4LockEv");
  real(this);
  Acquire(this);
}

void Mutex::Unlock() {
  TS_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex6UnlockEv");
  Release(this);
  real(this);
}

void Mutex::ReaderLock() {
  TS_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex10ReaderLockEv");
  real(this);
  Acquire(this);
}

void Mutex::ReaderUnlock() {
  TS_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex12ReaderUnlockEv");
  Release(this);
  real(this);
}

bool Mutex::TryLock() {
  TS_REAL(bool (*)(Mutex*), "_ZN4absl7debian35Mutex7TryLockEv");
  const bool locked = real(this);
  if (locked) Acquire(this);
  return locked;
}

void Mutex::Await(const Condition& cond) {
  TS_REAL(void (*)(Mutex*, const Condition&), "_ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE");
  AnnotatedCondition annotated{&cond, this};
  Release(this);
  real(this, Condition(&AnnotatedCondition::Eval, &annotated));
  Acquire(this);
}

bool Mutex::AwaitWithTimeout(const Condition& cond, absl::Duration timeout) {
  TS_REAL(bool (*)(Mutex*, const Condition&, absl::Duration),
          "_ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  AnnotatedCondition annotated{&cond, this};
  Release(this);
  const bool met = real(this, Condition(&AnnotatedCondition::Eval, &annotated), timeout);
  Acquire(this);
  return met;
}

void Mutex::LockWhen(const Condition& cond) {
  TS_REAL(void (*)(Mutex*, const Condition&), "_ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE");
  AnnotatedCondition annotated{&cond, this};
  real(this, Condition(&AnnotatedCondition::Eval, &annotated));
  Acquire(this);
}

void CondVar::Wait(Mutex* mu) {
  TS_REAL(void (*)(CondVar*, Mutex*), "_ZN4absl7debian37CondVar4WaitEPNS0_5MutexE");
  Release(mu);
  real(this, mu);
  Acquire(mu);
}

bool CondVar::WaitWithTimeout(Mutex* mu, absl::Duration timeout) {
  TS_REAL(bool (*)(CondVar*, Mutex*, absl::Duration),
          "_ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  Release(mu);
  const bool timed_out = real(this, mu, timeout);
  Acquire(mu);
  return timed_out;
}

void Notification::Notify() {
  TS_REAL(void (*)(Notification*), "_ZN4absl7debian312Notification6NotifyEv");
  Release(this);
  real(this);
}

void Notification::WaitForNotification() const {
  TS_REAL(void (*)(const Notification*), "_ZNK4absl7debian312Notification19WaitForNotificationEv");
  real(this);
  Acquire(this);
}

bool Notification::WaitForNotificationWithTimeout(absl::Duration timeout) const {
  TS_REAL(bool (*)(const Notification*, absl::Duration),
          "_ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE");
  const bool notified = real(this, timeout);
  if (notified) Acquire(this);
  return notified;
}

ABSL_NAMESPACE_END
}  // namespace absl
