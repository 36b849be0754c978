#include "client/bounded_buffer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "absl/synchronization/notification.h"

namespace tripletstream {
namespace {

TEST(BoundedBufferTest, PopsInPushOrder) {
  BoundedBuffer<int> buffer(3);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(buffer.Push(i).ok());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(*buffer.Pop(), i);
}

TEST(BoundedBufferTest, BlockPushWhenBufferIsFull) {
  BoundedBuffer<int> buffer(1);
  ASSERT_TRUE(buffer.Push(1).ok());
  std::atomic<bool> pushed{false};
  std::thread producer([&] {
    EXPECT_TRUE(buffer.Push(2).ok());
    pushed = true;
  });
  // The producer cannot finish until there is room; a Pop makes it.
  EXPECT_EQ(*buffer.Pop(), 1);
  EXPECT_EQ(*buffer.Pop(), 2);
  producer.join();
  EXPECT_TRUE(pushed);
}

TEST(BoundedBufferTest, ErrorStaysAtTheHead) {
  BoundedBuffer<int> buffer(2);
  ASSERT_TRUE(buffer.Push(7).ok());
  ASSERT_TRUE(buffer.Push(absl::OutOfRangeError("end")).ok());
  // A status element is accepted even when the buffer is full.
  ASSERT_TRUE(buffer.Push(absl::OutOfRangeError("again")).ok());
  EXPECT_EQ(*buffer.Pop(), 7);
  for (int i = 0; i < 3; ++i) {
    auto item = buffer.Pop();
    ASSERT_FALSE(item.ok());
    EXPECT_EQ(item.status().message(), "end");
  }
}

TEST(BoundedBufferTest, CancelWakesBlockedPopAndPushWithTheStatus) {
  BoundedBuffer<int> empty(1);
  BoundedBuffer<int> full(1);
  ASSERT_TRUE(full.Push(1).ok());
  absl::Status popped, pushed;
  std::thread consumer([&] { popped = empty.Pop().status(); });
  std::thread producer([&] { pushed = full.Push(2); });
  empty.Cancel(absl::CancelledError("stop"));
  full.Cancel(absl::CancelledError("stop"));
  consumer.join();
  producer.join();
  EXPECT_EQ(popped.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(pushed.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(full.Pop().status().code(), absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace tripletstream
