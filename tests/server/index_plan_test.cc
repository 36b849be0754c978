#include "server/index_plan.h"

#include <gtest/gtest.h>

#include <limits>

#include <set>
#include <vector>

namespace tripletstream {
namespace {

std::vector<int64_t> Indices(const IndexPlan& plan) {
  std::vector<int64_t> out;
  for (int64_t s = 0; s < plan.count; ++s) out.push_back(plan.IndexAt(s));
  return out;
}

TEST(IndexPlanTest, UnshardedServesStartToEnd) {
  auto plan = PlanIndices(10, 3, 0, 0, 0);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(Indices(*plan), (std::vector<int64_t>{3, 4, 5, 6, 7, 8, 9}));
}

TEST(IndexPlanTest, ShardsPartitionTheEpochExactlyOnce) {
  for (int count = 1; count <= 5; ++count) {
    for (int64_t start : {0, 1, 4, 9}) {
      std::multiset<int64_t> seen;
      for (int k = 0; k < count; ++k) {
        auto plan = PlanIndices(23, start, count, k, 0);
        ASSERT_TRUE(plan.ok());
        for (int64_t i : Indices(*plan)) {
          EXPECT_EQ(i % count, k);
          seen.insert(i);
        }
      }
      ASSERT_EQ(seen.size(), static_cast<size_t>(23 - start));
      int64_t expected = start;
      for (int64_t i : seen) EXPECT_EQ(i, expected++);
    }
  }
}

TEST(IndexPlanTest, MaxBatchesTruncates) {
  auto plan = PlanIndices(100, 10, 4, 1, 3);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(Indices(*plan), (std::vector<int64_t>{13, 17, 21}));
}

TEST(IndexPlanTest, StartPastTheEndServesNothing) {
  auto plan = PlanIndices(5, 7, 2, 1, 0);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->count, 0);
}

TEST(IndexPlanTest, RejectsBadArguments) {
  EXPECT_FALSE(PlanIndices(5, -1, 1, 0, 0).ok());
  EXPECT_FALSE(PlanIndices(5, 0, 2, 2, 0).ok());
  EXPECT_FALSE(PlanIndices(5, 0, 2, -1, 0).ok());
  EXPECT_FALSE(PlanIndices(5, 0, -3, 0, 0).ok());
  EXPECT_FALSE(PlanIndices(5, 0, 1, 0, -2).ok());
}

}  // namespace
}  // namespace tripletstream

namespace tripletstream {
namespace {

TEST(IndexPlanOverflowTest, StartNearTheLargestIndexServesNothing) {
  // Rounding such a start up to the shard's residue overflowed (fuzzing).
  auto plan = PlanIndices(10, std::numeric_limits<int64_t>::max() - 1, 7, 6, 0);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->count, 0);
}

}  // namespace
}  // namespace tripletstream
