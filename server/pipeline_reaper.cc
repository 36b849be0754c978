#include "server/pipeline_reaper.h"

namespace tripletstream {

PipelineReaper::PipelineReaper()
    : thread_([this] {
        for (;;) {
          std::function<void()> task;
          queue_.wait_dequeue(task);
          if (!task) return;  // The empty function is the stop signal.
          task();
        }
      }) {}

PipelineReaper::~PipelineReaper() {
  queue_.enqueue(std::function<void()>());
  thread_.join();
}

void PipelineReaper::Retire(std::function<void()> destroy) {
  if (destroy) queue_.enqueue(std::move(destroy));
}

}  // namespace tripletstream
