#include "server/pipeline_reaper.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace tripletstream {
namespace {

// Liveness bound for waits that should end almost at once.
constexpr std::chrono::seconds kPatience(10);

TEST(PipelineReaperTest, RetireReturnsWhileTheTaskIsStillRunning) {
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::atomic<bool> finished{false};
  std::atomic<bool> released{false};
  {
    PipelineReaper reaper;
    reaper.Retire([gate, &finished, &released] {
      released = gate.wait_for(kPatience) == std::future_status::ready;
      finished = true;
    });
    // Had Retire run the task (or waited for it), the task would have given
    // up waiting for the gate and finished by now.
    EXPECT_FALSE(finished.load());
    release.set_value();
  }
  EXPECT_TRUE(finished.load());
  EXPECT_TRUE(released.load());
}

TEST(PipelineReaperTest, DestructorDrainsEveryRetiredTask) {
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::atomic<int> ran{0};
  {
    PipelineReaper reaper;
    // The first task holds the reaper thread, so the other 99 are still
    // queued when the destructor starts.
    reaper.Retire([gate, &ran] {
      gate.wait_for(kPatience);
      ran.fetch_add(1);
    });
    for (int i = 0; i < 99; ++i) reaper.Retire([&ran] { ran.fetch_add(1); });
    EXPECT_EQ(ran.load(), 0);
    release.set_value();
  }
  EXPECT_EQ(ran.load(), 100);
}

TEST(PipelineReaperTest, DestructorDrainsTasksRetiredFromOtherThreads) {
  // As in the server: streams retire their pipelines from gRPC threads
  // (OnDone), and the reaper is destroyed on another thread.
  std::atomic<int> ran{0};
  {
    PipelineReaper reaper;
    std::thread caller([&reaper, &ran] {
      // Keeps the reaper thread busy, so that the ten tasks are still queued
      // when the destructor starts. (Not a timing assertion: the outcome must
      // be the same however long the destructor takes to start.)
      reaper.Retire([] { std::this_thread::sleep_for(std::chrono::milliseconds(100)); });
      for (int i = 0; i < 10; ++i) reaper.Retire([&ran] { ran.fetch_add(1); });
    });
    caller.join();
  }
  EXPECT_EQ(ran.load(), 10);
}

TEST(PipelineReaperTest, TasksRunOnOneBackgroundThread) {
  std::mutex mu;
  std::set<std::thread::id> threads;
  {
    PipelineReaper reaper;
    for (int i = 0; i < 10; ++i) {
      reaper.Retire([&mu, &threads] {
        std::lock_guard<std::mutex> lock(mu);
        threads.insert(std::this_thread::get_id());
      });
    }
  }
  ASSERT_EQ(threads.size(), 1u);
  EXPECT_NE(*threads.begin(), std::this_thread::get_id());
}

// Stands for a stream pipeline: owns a thread that its destructor stops and
// joins.
class ThreadOwner {
 public:
  explicit ThreadOwner(std::atomic<std::thread::id>* destroyed_on)
      : destroyed_on_(destroyed_on), worker_([this] {
          while (!stop_.load()) std::this_thread::yield();
        }) {}
  ~ThreadOwner() {
    stop_ = true;
    worker_.join();
    destroyed_on_->store(std::this_thread::get_id());
  }

 private:
  std::atomic<std::thread::id>* destroyed_on_;
  std::atomic<bool> stop_{false};
  std::thread worker_;
};

TEST(PipelineReaperTest, OwnedObjectIsJoinedOnTheReaperThreadNotTheCaller) {
  std::atomic<std::thread::id> destroyed_on{};
  {
    PipelineReaper reaper;
    ThreadOwner* raw = new ThreadOwner(&destroyed_on);
    reaper.Retire([raw] { delete raw; });
  }
  EXPECT_NE(destroyed_on.load(), std::thread::id());
  EXPECT_NE(destroyed_on.load(), std::this_thread::get_id());
}

TEST(PipelineReaperTest, EmptyFunctionIsIgnoredAndDoesNotStopTheReaper) {
  std::promise<void> ran;
  std::future<void> done = ran.get_future();
  PipelineReaper reaper;
  reaper.Retire(nullptr);
  reaper.Retire(std::function<void()>());
  reaper.Retire([&ran] { ran.set_value(); });
  // The reaper still runs tasks retired after the empty ones, before its
  // destructor asks it to stop.
  EXPECT_EQ(done.wait_for(kPatience), std::future_status::ready);
}

TEST(PipelineReaperTest, RetireIsSafeFromManyThreads) {
  std::atomic<int> ran{0};
  {
    PipelineReaper reaper;
    std::vector<std::thread> callers;
    for (int t = 0; t < 4; ++t) {
      callers.emplace_back([&reaper, &ran] {
        for (int i = 0; i < 250; ++i) reaper.Retire([&ran] { ran.fetch_add(1); });
      });
    }
    for (std::thread& caller : callers) caller.join();
  }
  EXPECT_EQ(ran.load(), 1000);
}

}  // namespace
}  // namespace tripletstream
