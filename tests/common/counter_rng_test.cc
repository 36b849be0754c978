#include "common/counter_rng.h"

#include <gtest/gtest.h>

#include <vector>

namespace tripletstream {
namespace {

TEST(IndexPermutationTest, IsABijectionForManySizes) {
  for (uint64_t n : {1u, 2u, 3u, 7u, 64u, 100u, 1000u, 4097u}) {
    IndexPermutation perm(n, 42);
    std::vector<int> seen(n, 0);
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t j = perm(i);
      ASSERT_LT(j, n);
      ++seen[j];
    }
    for (uint64_t j = 0; j < n; ++j) EXPECT_EQ(seen[j], 1) << "n=" << n << " j=" << j;
  }
}

TEST(IndexPermutationTest, DependsOnKeyOnly) {
  IndexPermutation a(1000, 7), b(1000, 7), c(1000, 8);
  int differ = 0;
  for (uint64_t i = 0; i < 1000; ++i) {
    EXPECT_EQ(a(i), b(i));
    differ += a(i) != c(i);
  }
  EXPECT_GT(differ, 900);
}

TEST(IndexPermutationTest, ActuallyShuffles) {
  IndexPermutation perm(1000, 3);
  int fixed = 0;
  for (uint64_t i = 0; i < 1000; ++i) fixed += perm(i) == i;
  EXPECT_LT(fixed, 20);
}

TEST(CounterRngTest, SameKeySameSequenceDifferentKeyDifferent) {
  CounterRng a(MakeKey({1, 2, 3})), b(MakeKey({1, 2, 3})), c(MakeKey({1, 2, 4}));
  for (int i = 0; i < 100; ++i) {
    uint64_t x = a.Next();
    EXPECT_EQ(x, b.Next());
    EXPECT_NE(x, c.Next());
  }
}

TEST(CounterRngTest, KeyIsOrderDependent) {
  EXPECT_NE(MakeKey({1, 2}), MakeKey({2, 1}));
  EXPECT_NE(MakeKey({0}), MakeKey({0, 0}));
}

TEST(CounterRngTest, BelowStaysInRangeAndCoversIt) {
  CounterRng rng(99);
  std::vector<int> hist(10, 0);
  for (int i = 0; i < 10000; ++i) {
    uint64_t v = rng.Below(10);
    ASSERT_LT(v, 10u);
    ++hist[v];
  }
  for (int h : hist) EXPECT_GT(h, 800);  // Expected 1000 each.
}

TEST(CounterRngTest, NormalHasUnitMoments) {
  CounterRng rng(5);
  double sum = 0, sum_sq = 0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    double x = rng.Normal();
    sum += x;
    sum_sq += x * x;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.02);
  EXPECT_NEAR(sum_sq / n, 1.0, 0.02);
}

}  // namespace
}  // namespace tripletstream
