#include "server/pipeline_reaper.h"

namespace tripletstream {

PipelineReaper::PipelineReaper() : thread_([this] { Run(); }) {}

PipelineReaper::~PipelineReaper() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void PipelineReaper::Retire(std::function<void()> destroy) {
  if (!destroy) return;
  absl::MutexLock lock(&mu_);
  tasks_.push_back(std::move(destroy));
}

void PipelineReaper::Run() {
  for (;;) {
    std::function<void()> task;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](PipelineReaper* r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(r->mu_) {
            return r->stopping_ || !r->tasks_.empty();
          },
          this));
      if (tasks_.empty()) return;  // Stopping, and everything retired has run.
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();  // Outside the lock: it may join threads for a while.
  }
}

}  // namespace tripletstream
