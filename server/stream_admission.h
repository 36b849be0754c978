#ifndef TRIPLETSTREAM_SERVER_STREAM_ADMISSION_H_
#define TRIPLETSTREAM_SERVER_STREAM_ADMISSION_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/server_stats.h"

namespace tripletstream {

struct StreamLimits {
  int max_streams = 64;                       // Open streams at once; 0 = no limit.
  int64_t max_inflight_bytes = int64_t{2} << 30;  // Batch buffers all streams may pin; 0 = none.
};

// Caps what open streams may hold: their number and the bytes of the batch
// buffers their producers pin (threads x buffers x batch bytes). Beyond
// either, a new stream is refused with RESOURCE_EXHAUSTED naming the limit,
// so a client fails over to another server instead of this one running out
// of memory. Thread-safe.
class StreamAdmission {
 public:
  // Held by a stream's pipeline; releases its share when destroyed.
  class Ticket {
   public:
    ~Ticket();
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;

   private:
    friend class StreamAdmission;
    Ticket(StreamAdmission* admission, int64_t bytes) : admission_(admission), bytes_(bytes) {}
    StreamAdmission* const admission_;
    const int64_t bytes_;
  };

  // `stats` (optional) gets the refusals and the pinned bytes.
  StreamAdmission(StreamLimits limits, ServerStats* stats) : limits_(limits), stats_(stats) {}

  // A ticket for a stream that pins `bytes`; the admission must outlive it.
  absl::StatusOr<std::shared_ptr<Ticket>> Admit(int64_t bytes);

  int64_t open_streams() const;
  int64_t inflight_bytes() const;

 private:
  void Release(int64_t bytes);

  const StreamLimits limits_;
  ServerStats* const stats_;
  mutable absl::Mutex mu_;
  int64_t streams_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_SERVER_STREAM_ADMISSION_H_
