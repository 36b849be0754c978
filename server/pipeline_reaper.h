#ifndef TRIPLETSTREAM_SERVER_PIPELINE_REAPER_H_
#define TRIPLETSTREAM_SERVER_PIPELINE_REAPER_H_

#include <deque>
#include <functional>
#include <thread>

#include "absl/synchronization/mutex.h"

namespace tripletstream {

// Destroys finished stream pipelines (joining their producer threads) on a
// background thread, so gRPC callbacks such as OnDone never block on a join.
// The destructor runs everything retired before it, from any thread.
class PipelineReaper {
 public:
  PipelineReaper();
  ~PipelineReaper();
  PipelineReaper(const PipelineReaper&) = delete;
  PipelineReaper& operator=(const PipelineReaper&) = delete;

  // `destroy` runs on the reaper thread, e.g. a lambda owning a pipeline.
  void Retire(std::function<void()> destroy);

 private:
  void Run();

  // A mutex-guarded FIFO rather than a lock-free queue: the stop request must
  // not overtake tasks other threads retired earlier (moodycamel queues are
  // FIFO per producer only), and this runs once per stream.
  absl::Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_SERVER_PIPELINE_REAPER_H_
