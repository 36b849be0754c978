#ifndef TRIPLETSTREAM_SERVER_PRODUCER_PIPELINE_H_
#define TRIPLETSTREAM_SERVER_PRODUCER_PIPELINE_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <algorithm>
#include <functional>
#include <memory>
#include <thread>
#include <unordered_map>
#include <vector>

#include "concurrentqueue/blockingconcurrentqueue.h"

namespace tripletstream {

// Builds messages 0..total-1 of one stream on `threads` producer threads and
// hands them to a single consumer in sequence order, with bounded memory.
//
// Producer t builds sequence numbers t, t+T, t+2T, ... into messages taken
// from its own pool of `buffers_per_thread` reusable messages (a moodycamel
// BlockingConcurrentQueue used as a free list) and enqueues them on its own
// ready queue (moodycamel ConcurrentQueue). The consumer takes message n from
// ready queue n % T, so order needs no reordering buffer. A producer whose
// pool is empty blocks until the consumer releases a message: a slow
// consumer slows the producers, and at most T * buffers_per_thread messages
// exist per stream.
//
// The consumer side (TryNext/Release) must be called by one thread at a time;
// it never blocks. `on_ready` is called by a producer after each message it
// enqueues (and must not block for long).
template <typename Message>
class ProducerPipeline {
 public:
  using BuildFn = std::function<void(int64_t seq, Message* out)>;

  struct Options {
    int threads = 1;
    int buffers_per_thread = 2;
    // Optional server-wide gauge of built, not yet consumed messages.
    std::atomic<int64_t>* queued_gauge = nullptr;
    // Optional gauges of producer threads alive and of those building now.
    std::atomic<int64_t>* threads_gauge = nullptr;
    std::atomic<int64_t>* busy_gauge = nullptr;
  };

  ProducerPipeline(int64_t total, BuildFn build, Options options,
                   std::function<void()> on_ready)
      : total_(total),
        build_(std::move(build)),
        on_ready_(std::move(on_ready)),
        queued_gauge_(options.queued_gauge),
        threads_gauge_(options.threads_gauge),
        busy_gauge_(options.busy_gauge) {
    const int threads = std::max(1, options.threads);
    const int buffers = std::max(1, options.buffers_per_thread);
    lanes_.reserve(threads);
    for (int t = 0; t < threads; ++t) {
      auto lane = std::make_unique<Lane>();
      for (int b = 0; b < buffers; ++b) {
        lane->storage.push_back(std::make_unique<Message>());
        owner_[lane->storage.back().get()] = t;
        lane->free.enqueue(lane->storage.back().get());
      }
      lanes_.push_back(std::move(lane));
    }
  }

  ~ProducerPipeline() {
    Cancel();
    for (auto& lane : lanes_) {
      if (lane->thread.joinable()) lane->thread.join();
    }
    if (queued_gauge_ != nullptr) {
      queued_gauge_->fetch_sub(ready_count_.load(), std::memory_order_relaxed);
    }
  }

  ProducerPipeline(const ProducerPipeline&) = delete;
  ProducerPipeline& operator=(const ProducerPipeline&) = delete;

  void Start() {
    for (size_t t = 0; t < lanes_.size(); ++t) {
      lanes_[t]->thread = std::thread([this, t] { Produce(static_cast<int>(t)); });
    }
  }

  // The next message in sequence order, or nullptr if it is not built yet
  // (or the stream is exhausted: see Exhausted()).
  Message* TryNext() {
    if (next_ >= total_) return nullptr;
    Lane& lane = *lanes_[next_ % lanes_.size()];
    Message* message = nullptr;
    if (!lane.ready.try_dequeue(message)) return nullptr;
    ++next_;
    ready_count_.fetch_sub(1, std::memory_order_relaxed);
    if (queued_gauge_ != nullptr) queued_gauge_->fetch_sub(1, std::memory_order_relaxed);
    return message;
  }

  // Gives a message returned by TryNext back to its producer.
  void Release(Message* message) {
    lanes_[owner_.at(message)]->free.enqueue(message);
  }

  // True when every message has been handed out by TryNext.
  bool Exhausted() const { return next_ >= total_; }

  // Stops the producers; they exit after the message they are building.
  void Cancel() { cancelled_.store(true, std::memory_order_release); }

  int64_t total() const { return total_; }
  // Messages built and waiting for the consumer.
  int64_t ready_count() const { return ready_count_.load(std::memory_order_relaxed); }

 private:
  struct Lane {
    std::vector<std::unique_ptr<Message>> storage;
    moodycamel::BlockingConcurrentQueue<Message*> free;
    moodycamel::ConcurrentQueue<Message*> ready;
    std::thread thread;
  };

  void Produce(int t) {
    Gauge alive(threads_gauge_);
    Lane& lane = *lanes_[t];
    const int64_t step = static_cast<int64_t>(lanes_.size());
    for (int64_t seq = t; seq < total_; seq += step) {
      Message* message = nullptr;
      while (!lane.free.wait_dequeue_timed(message, std::chrono::milliseconds(50))) {
        if (cancelled_.load(std::memory_order_acquire)) return;
      }
      if (cancelled_.load(std::memory_order_acquire)) return;
      {
        Gauge busy(busy_gauge_);
        build_(seq, message);
      }
      ready_count_.fetch_add(1, std::memory_order_relaxed);
      if (queued_gauge_ != nullptr) queued_gauge_->fetch_add(1, std::memory_order_relaxed);
      lane.ready.enqueue(message);
      if (on_ready_) on_ready_();
    }
  }

  // +1 on a gauge for its lifetime (no-op on nullptr).
  class Gauge {
   public:
    explicit Gauge(std::atomic<int64_t>* g) : g_(g) {
      if (g_ != nullptr) g_->fetch_add(1, std::memory_order_relaxed);
    }
    ~Gauge() {
      if (g_ != nullptr) g_->fetch_sub(1, std::memory_order_relaxed);
    }
    Gauge(const Gauge&) = delete;
    Gauge& operator=(const Gauge&) = delete;

   private:
    std::atomic<int64_t>* g_;
  };

  const int64_t total_;
  BuildFn build_;
  std::function<void()> on_ready_;
  std::atomic<int64_t>* queued_gauge_;
  std::atomic<int64_t>* threads_gauge_;
  std::atomic<int64_t>* busy_gauge_;
  std::vector<std::unique_ptr<Lane>> lanes_;
  std::unordered_map<const Message*, int> owner_;
  std::atomic<bool> cancelled_{false};
  std::atomic<int64_t> ready_count_{0};
  int64_t next_ = 0;  // Consumer side only.
};

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_SERVER_PRODUCER_PIPELINE_H_
