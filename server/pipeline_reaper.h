#ifndef TRIPLETSTREAM_SERVER_PIPELINE_REAPER_H_
#define TRIPLETSTREAM_SERVER_PIPELINE_REAPER_H_

#include <functional>
#include <thread>

#include "concurrentqueue/blockingconcurrentqueue.h"

namespace tripletstream {

// Destroys finished stream pipelines (joining their producer threads) on a
// background thread, so gRPC callbacks such as OnDone never block on a join.
// The destructor drains everything retired so far.
class PipelineReaper {
 public:
  PipelineReaper();
  ~PipelineReaper();
  PipelineReaper(const PipelineReaper&) = delete;
  PipelineReaper& operator=(const PipelineReaper&) = delete;

  // `destroy` runs on the reaper thread, e.g. a lambda owning a pipeline.
  void Retire(std::function<void()> destroy);

 private:
  moodycamel::BlockingConcurrentQueue<std::function<void()>> queue_;
  std::thread thread_;
};

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_SERVER_PIPELINE_REAPER_H_
