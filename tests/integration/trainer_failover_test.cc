// The trainer against an in-process cluster of data servers whose members
// die or freeze mid-run: it finishes, trains on exactly the undisturbed
// batches, and stops promptly when asked even if every server is frozen.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "tests/testing/fixtures.h"
#include "tests/testing/test_cluster.h"
#include "trainer/trainer_metrics.h"
#include "trainer/training.h"

namespace tripletstream {
namespace {

class TrainerFailoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Shards far larger than what sockets and HTTP/2 windows buffer, so a
    // server still owes most of its shard when it dies or freezes.
    auto cluster = testing::TestCluster::Start(3, testing::LargePreparedDataset());
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *std::move(cluster);
  }

  TrainConfig Config(std::vector<std::string> servers) const {
    TrainConfig c;
    c.servers = std::move(servers);
    c.steps = 156;  // One epoch: 2488 windows / 16.
    c.batch_size = 16;
    c.warmup_steps = 3;
    c.model.channels = 4;
    c.model.levels = 2;
    c.model.embedding = 4;
    c.log_every = 0;
    c.checkpoint_every = 0;
    c.eval_at_end = false;
    c.prefetch_per_shard = 1;
    c.torch_threads = 1;
    c.stall_timeout_s = 1;
    return c;
  }

  // Trains `config`; once `at_step` steps are taken, calls `disturb`.
  absl::StatusOr<TrainResult> TrainDisturbed(const TrainConfig& config, int64_t at_step,
                                             const std::function<void()>& disturb,
                                             StopSignal* stop = nullptr) {
    TrainerMetrics live;
    TrainCollaborators with;
    with.live_metrics = &live;
    with.stop = stop;
    std::atomic<bool> done{false};
    std::thread watcher([&] {
      while (!done && live.steps() < at_step) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      if (!done) disturb();
    });
    absl::StatusOr<TrainResult> result = Train(config, with);
    done = true;
    watcher.join();
    return result;
  }

  std::unique_ptr<testing::TestCluster> cluster_;
};

TEST_F(TrainerFailoverTest, FrozenAndKilledServersChangeNoBatch) {
  auto reference = Train(Config({cluster_->Address(0)}));
  ASSERT_TRUE(reference.ok()) << reference.status();
  auto disturbed = TrainDisturbed(Config(cluster_->Addresses()), 2, [&] {
    cluster_->Freeze(1);
    cluster_->Kill(2);
  });
  ASSERT_TRUE(disturbed.ok()) << disturbed.status();
  EXPECT_EQ(disturbed->steps, 156);
  EXPECT_EQ(disturbed->batch_digests, reference->batch_digests);
  EXPECT_GE(disturbed->reconnects, 2);
}

TEST_F(TrainerFailoverTest, StopIsHonouredWhileEveryServerIsFrozen) {
  TrainConfig config = Config(cluster_->Addresses());
  config.steps = 100000;
  config.stall_timeout_s = 0;  // Would wait forever without the stop.
  StopSignal stop;
  auto result = TrainDisturbed(config, 3, [&] {
    for (int i = 0; i < 3; ++i) cluster_->Freeze(i);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    stop.Request();
  }, &stop);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->interrupted);
  EXPECT_GE(result->steps, 3);
  EXPECT_LT(result->steps, 100000);
}

}  // namespace
}  // namespace tripletstream
