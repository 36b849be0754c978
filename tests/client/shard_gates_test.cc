#include "client/shard_gates.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace tripletstream {
namespace {

// A waiter that records when its Wait returned and what it said.
struct Waiter {
  Waiter(ShardGates* gates, int k, int shards)
      : thread([this, gates, k, shards] {
          result = gates->Wait(k, shards);
          done = true;
        }) {}
  ~Waiter() { thread.join(); }
  std::atomic<bool> done{false};
  bool result = false;
  std::thread thread;
};

// Waits are liveness bounds (10 s), never timing checks; "still waiting"
// checks can only fail when a gate opened too early.
bool Eventually(const std::atomic<bool>& flag) {
  for (int i = 0; i < 1000 && !flag; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return flag;
}

TEST(ShardGatesTest, ShardKWaitsForGateKOnly) {
  ShardGates gates(3);
  Waiter one(&gates, 1, 3);
  gates.Open(0);
  gates.Open(2);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(one.done);
  gates.Open(1);
  ASSERT_TRUE(Eventually(one.done));
  EXPECT_TRUE(one.result);
  // An open gate lets later waiters through at once.
  EXPECT_TRUE(gates.Wait(1, 3));
}

TEST(ShardGatesTest, AnotherShardCountWaitsForEveryGate) {
  ShardGates gates(2);
  Waiter w(&gates, 0, 3);  // The next epoch has three servers.
  gates.Open(0);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(w.done);
  gates.Open(1);
  ASSERT_TRUE(Eventually(w.done));
  EXPECT_TRUE(w.result);
}

TEST(ShardGatesTest, OpenAllReleasesEveryone) {
  ShardGates gates(2);
  Waiter a(&gates, 0, 2), b(&gates, 1, 2);
  gates.OpenAll();
  ASSERT_TRUE(Eventually(a.done));
  ASSERT_TRUE(Eventually(b.done));
  EXPECT_TRUE(a.result && b.result);
}

TEST(ShardGatesTest, InterruptEndsWaitsWithFalse) {
  ShardGates gates(2);
  Waiter w(&gates, 1, 2);
  gates.Interrupt();
  ASSERT_TRUE(Eventually(w.done));
  EXPECT_FALSE(w.result);
  EXPECT_FALSE(gates.Wait(0, 2));
}

TEST(ShardGatesTest, OutOfRangeGatesAreIgnored) {
  ShardGates gates(1);
  gates.Open(-1);
  gates.Open(5);
  Waiter w(&gates, 0, 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(w.done);
  gates.Open(0);
  ASSERT_TRUE(Eventually(w.done));
}

}  // namespace
}  // namespace tripletstream
