#ifndef TRIPLETSTREAM_COMMON_TSAN_ANNOTATIONS_H_
#define TRIPLETSTREAM_COMMON_TSAN_ANNOTATIONS_H_

// Happens-before edges that a library keeps where ThreadSanitizer cannot see
// them (Debian's gRPC is not instrumented), stated where the project relies
// on them. No-ops unless built with -fsanitize=thread.
#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
// Everything this thread did before is ordered before a later
// TS_HAPPENS_AFTER(addr) on any thread.
#define TS_HAPPENS_BEFORE(addr) __tsan_release(const_cast<void*>(static_cast<const void*>(addr)))
#define TS_HAPPENS_AFTER(addr) __tsan_acquire(const_cast<void*>(static_cast<const void*>(addr)))
#else
#define TS_HAPPENS_BEFORE(addr) static_cast<void>(addr)
#define TS_HAPPENS_AFTER(addr) static_cast<void>(addr)
#endif

#endif  // TRIPLETSTREAM_COMMON_TSAN_ANNOTATIONS_H_
