#include "trainer/rank_schedule.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "trainer/distributed_config.h"

namespace tripletstream {
namespace {

// Every batch of an epoch is trained on by exactly one rank, every rank
// takes the same number of steps, and batches go in global order.
TEST(RankScheduleTest, RanksCoverTheEpochOnceInLockstep) {
  for (int64_t n : {1, 2, 7, 10, 12}) {
    for (int world : {1, 2, 3, 4}) {
      if (world > n) continue;
      std::vector<int64_t> order;
      const int64_t steps = RankSchedule(n, 0, world).steps_per_epoch();
      for (int64_t j = 0; j < steps; ++j) {
        for (int r = 0; r < world; ++r) {
          RankSchedule s(n, r, world);
          ASSERT_TRUE(s.Check().ok());
          EXPECT_EQ(s.steps_per_epoch(), steps);
          if (s.BatchAt(j) >= 0) order.push_back(s.BatchAt(j));
        }
      }
      std::vector<int64_t> expected;
      for (int64_t i = 0; i < n; ++i) expected.push_back(i);
      EXPECT_EQ(order, expected) << "n=" << n << " world=" << world;
      EXPECT_GE(RankSchedule(n, 0, world).BatchAt(steps - 1), 0);  // Rank 0 always has one.
    }
  }
}

TEST(RankScheduleTest, PositionsAreStepBoundaries) {
  RankSchedule s(10, 1, 3);  // 4 steps: batches 1, 4, 7, (none).
  int64_t epoch = 0, next = 0;
  s.PositionAfter(2, 1, &epoch, &next);
  EXPECT_EQ(epoch, 2);
  EXPECT_EQ(next, 3);
  EXPECT_EQ(*s.StepOf(3), 1);
  s.PositionAfter(2, 4, &epoch, &next);
  EXPECT_EQ(epoch, 3);
  EXPECT_EQ(next, 0);
  EXPECT_EQ(*s.StepOf(10), 4);  // An epoch's end written the single-trainer way.
  EXPECT_EQ(s.StepOf(4).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(RankScheduleTest, BadRanksAndTinyEpochsAreRefused) {
  EXPECT_FALSE(RankSchedule(10, 2, 2).Check().ok());
  EXPECT_FALSE(RankSchedule(10, -1, 2).Check().ok());
  auto tiny = RankSchedule(2, 0, 3).Check();
  EXPECT_EQ(tiny.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(tiny.message().find("fewer than the world size"), std::string::npos);
}

const char* NoEnv(const char*) { return nullptr; }

TEST(DistributedConfigTest, FlagsWinOverTheEnvironmentWhichWinsOverDefaults) {
  auto defaults = ResolveDistributedConfig({}, NoEnv);
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->world_size, 1);
  EXPECT_FALSE(defaults->enabled());
  auto env = [](const char* name) -> const char* {
    std::string n = name;
    if (n == "RANK") return "1";
    if (n == "WORLD_SIZE") return "4";
    if (n == "MASTER_ADDR") return "trainer-0.trainers";
    if (n == "MASTER_PORT") return "23456";
    if (n == "LOCAL_RANK") return "1";
    return nullptr;
  };
  auto from_env = ResolveDistributedConfig({}, env);
  ASSERT_TRUE(from_env.ok()) << from_env.status();
  EXPECT_EQ(from_env->rank, 1);
  EXPECT_EQ(from_env->world_size, 4);
  EXPECT_EQ(from_env->master_addr, "trainer-0.trainers");
  EXPECT_EQ(from_env->master_port, 23456);
  EXPECT_EQ(LocalRankFromEnvironment(env), 1);
  DistributedFlags flags;
  flags.rank = 3;
  flags.master_addr = "10.0.0.1";
  auto mixed = ResolveDistributedConfig(flags, env);
  ASSERT_TRUE(mixed.ok());
  EXPECT_EQ(mixed->rank, 3);
  EXPECT_EQ(mixed->master_addr, "10.0.0.1");
}

TEST(DistributedConfigTest, MalformedValuesNameTheirSource) {
  auto bad_env = [](const char* name) -> const char* {
    return std::string(name) == "WORLD_SIZE" ? "two" : nullptr;
  };
  auto s = ResolveDistributedConfig({}, bad_env);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("WORLD_SIZE='two'"), std::string::npos);
  DistributedFlags rank_too_big;
  rank_too_big.rank = 2;
  rank_too_big.world_size = 2;
  EXPECT_NE(ResolveDistributedConfig(rank_too_big, NoEnv).status().message().find("--rank"),
            std::string::npos);
  DistributedFlags bad_port;
  bad_port.master_port = 70000;
  EXPECT_NE(ResolveDistributedConfig(bad_port, NoEnv).status().message().find("--master_port"),
            std::string::npos);
  DistributedFlags bad_timeout;
  bad_timeout.timeout_s = 0;
  EXPECT_FALSE(ResolveDistributedConfig(bad_timeout, NoEnv).ok());
}

TEST(DistributedConfigTest, CollectiveBackendFollowsTheDeviceAndTheBuild) {
  // auto: NCCL only for CUDA on a build that has it.
  EXPECT_EQ(*ResolveCollectiveBackend("auto", "cpu", true), "gloo");
  EXPECT_EQ(*ResolveCollectiveBackend("auto", "cuda:1", true), "nccl");
  EXPECT_EQ(*ResolveCollectiveBackend("auto", "cuda", false), "gloo");
  EXPECT_EQ(*ResolveCollectiveBackend("gloo", "cuda", true), "gloo");
  EXPECT_EQ(*ResolveCollectiveBackend("nccl", "cuda", true), "nccl");
  // Refusals say why.
  auto no_build = ResolveCollectiveBackend("nccl", "cuda", false);
  ASSERT_FALSE(no_build.ok());
  EXPECT_NE(no_build.status().message().find("without NCCL"), std::string::npos);
  auto cpu = ResolveCollectiveBackend("nccl", "cpu", true);
  ASSERT_FALSE(cpu.ok());
  EXPECT_NE(cpu.status().message().find("--device=cuda"), std::string::npos);
  auto unknown = ResolveCollectiveBackend("mpi", "cpu", true);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("--collective_backend"), std::string::npos);
}

}  // namespace
}  // namespace tripletstream
