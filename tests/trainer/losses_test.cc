#include "trainer/losses.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace tripletstream {
namespace {

// Labels as the trainer passes them: int32.
torch::Tensor Labels(const std::vector<int32_t>& labels) {
  return torch::tensor(labels, torch::kInt32);
}

// One-dimensional embeddings: one point on a line per row, [N, 1].
torch::Tensor OnALine(const std::vector<float>& xs) { return torch::tensor(xs).unsqueeze(1); }

// Euclidean distance of rows a and b of `e` ([N, D], double), computed
// directly.
double Distance(const torch::Tensor& e, int64_t a, int64_t b) {
  return (e[a] - e[b]).pow(2).sum().sqrt().item<double>();
}

// Batch-hard, written out per anchor in double as the header states it.
double ReferenceBatchHard(const torch::Tensor& embeddings, const std::vector<int32_t>& labels,
                          double margin) {
  const torch::Tensor e = embeddings.to(torch::kDouble);
  const int64_t n = e.size(0);
  double sum = 0;
  int count = 0;
  for (int64_t a = 0; a < n; ++a) {
    double hardest_p = -1, hardest_n = std::numeric_limits<double>::infinity();
    for (int64_t j = 0; j < n; ++j) {
      if (j == a) continue;
      const double d = Distance(e, a, j);
      if (labels[j] == labels[a]) {
        hardest_p = std::max(hardest_p, d);
      } else {
        hardest_n = std::min(hardest_n, d);
      }
    }
    if (hardest_p < 0 || std::isinf(hardest_n)) continue;
    sum += std::max(0.0, hardest_p - hardest_n + margin);
    ++count;
  }
  return count == 0 ? 0 : sum / count;
}

// Batch-all, written out per triplet in double as the header states it.
double ReferenceBatchAll(const torch::Tensor& embeddings, const std::vector<int32_t>& labels,
                         double margin) {
  const torch::Tensor e = embeddings.to(torch::kDouble);
  const int64_t n = e.size(0);
  double sum = 0;
  int count = 0;
  for (int64_t a = 0; a < n; ++a) {
    for (int64_t p = 0; p < n; ++p) {
      if (p == a || labels[p] != labels[a]) continue;
      for (int64_t q = 0; q < n; ++q) {
        if (labels[q] == labels[a]) continue;
        const double loss = Distance(e, a, p) - Distance(e, a, q) + margin;
        if (loss > 0) {
          sum += loss;
          ++count;
        }
      }
    }
  }
  return count == 0 ? 0 : sum / count;
}

// 12 seeded random embeddings, 4 users of 3 rows each, interleaved.
struct RandomBatch {
  torch::Tensor embeddings;
  std::vector<int32_t> labels;
};

RandomBatch MakeRandomBatch(uint64_t seed) {
  torch::manual_seed(seed);
  RandomBatch batch;
  batch.embeddings = torch::randn({12, 4});
  for (int i = 0; i < 12; ++i) batch.labels.push_back(i % 4);
  return batch;
}

TEST(TripletMarginLossTest, MatchesHandComputedEuclideanValues) {
  // Row 0: |a - p| = 5 (3-4-5), |a - n| = 10 -> relu(5 - 10 + m).
  // Row 1: |a - p| = 3, |a - n| = 1 -> relu(3 - 1 + m).
  torch::Tensor a = torch::tensor({{0.0f, 0.0f}, {1.0f, 1.0f}});
  torch::Tensor p = torch::tensor({{3.0f, 4.0f}, {1.0f, 4.0f}});
  torch::Tensor n = torch::tensor({{6.0f, 8.0f}, {2.0f, 1.0f}});
  // m = 1: (0 + 3) / 2.
  EXPECT_NEAR(TripletMarginLoss(a, p, n, 1.0).item<double>(), 1.5, 1e-5);
  // m = 6: (1 + 8) / 2.
  EXPECT_NEAR(TripletMarginLoss(a, p, n, 6.0).item<double>(), 4.5, 1e-5);
}

TEST(TripletMarginLossTest, IsAScalarMeanOverRows) {
  // One row with loss 1 and three with loss 0: the mean, 0.25, not the sum.
  torch::Tensor a = torch::zeros({4, 2});
  torch::Tensor p = torch::tensor({{1.0f, 0.0f}, {0.0f, 1.0f}, {1.0f, 0.0f}, {0.0f, 1.0f}});
  torch::Tensor n = torch::tensor({{0.0f, 4.0f}, {4.0f, 0.0f}, {0.0f, 4.0f}, {0.0f, 2.0f}});
  // m = 2: rows 0-2 relu(1 - 4 + 2) = 0, row 3 relu(1 - 2 + 2) = 1.
  torch::Tensor loss = TripletMarginLoss(a, p, n, 2.0);
  EXPECT_EQ(loss.dim(), 0);
  EXPECT_NEAR(loss.item<double>(), 0.25, 1e-5);
}

TEST(TripletMarginLossTest, IsZeroWhenEveryNegativeIsFartherByTheMargin) {
  torch::Tensor a = torch::tensor({{0.0f, 0.0f}, {5.0f, 5.0f}});
  torch::Tensor p = torch::tensor({{0.0f, 1.0f}, {5.0f, 6.0f}});
  torch::Tensor n = torch::tensor({{0.0f, 3.0f}, {8.0f, 5.0f}});
  // d_ap = 1, d_an = 3 in both rows; the loss starts above m = 2.
  EXPECT_EQ(TripletMarginLoss(a, p, n, 2.0).item<double>(), 0.0);
  EXPECT_NEAR(TripletMarginLoss(a, p, n, 2.5).item<double>(), 0.5, 1e-5);
}

TEST(PairwiseDistancesTest, MatchesHandComputedEuclideanDistances) {
  torch::Tensor e = torch::tensor({{0.0f, 0.0f}, {3.0f, 4.0f}, {6.0f, 8.0f}, {3.0f, 0.0f}});
  torch::Tensor d = PairwiseDistances(e);
  ASSERT_EQ(d.sizes(), (std::vector<int64_t>{4, 4}));
  const double s73 = std::sqrt(73.0);
  torch::Tensor expected = torch::tensor(
      {{0.0, 5.0, 10.0, 3.0}, {5.0, 0.0, 5.0, 4.0}, {10.0, 5.0, 0.0, s73}, {3.0, 4.0, s73, 0.0}},
      torch::kDouble);
  EXPECT_TRUE(torch::allclose(d.to(torch::kDouble), expected, /*rtol=*/1e-5, /*atol=*/1e-5)) << d;
}

TEST(PairwiseDistancesTest, IsSymmetricAndAgreesWithDirectDistances) {
  torch::manual_seed(3);
  torch::Tensor e = torch::randn({6, 5});
  torch::Tensor d = PairwiseDistances(e);
  EXPECT_TRUE(torch::allclose(d, d.t(), 1e-5, 1e-5));
  const torch::Tensor e64 = e.to(torch::kDouble);
  for (int64_t i = 0; i < 6; ++i) {
    for (int64_t j = 0; j < 6; ++j) {
      EXPECT_NEAR(d[i][j].item<double>(), Distance(e64, i, j), 1e-4) << i << "," << j;
    }
  }
}

TEST(PairwiseDistancesTest, HasFiniteGradientAtZeroDistance) {
  // Every point coincides: all distances are 0, where sqrt has no gradient.
  torch::Tensor e = torch::zeros({3, 2}, torch::requires_grad());
  torch::Tensor d = PairwiseDistances(e);
  EXPECT_LT(d.abs().max().item<double>(), 1e-5);
  d.sum().backward();
  ASSERT_TRUE(e.grad().defined());
  EXPECT_TRUE(torch::isfinite(e.grad()).all().item<bool>()) << e.grad();
}

TEST(PairwiseDistancesTest, GradientOfDistinctPointsIsTheUnitDirection) {
  // sum(D) = 2 |x0 - x1| for two points; d/dx0 = 2 (x0 - x1) / |x0 - x1|
  // = 2 * (-3, -4) / 5. The zero diagonal must not add anything.
  torch::Tensor e = torch::tensor({{0.0f, 0.0f}, {3.0f, 4.0f}}).requires_grad_();
  PairwiseDistances(e).sum().backward();
  torch::Tensor expected = torch::tensor({{-1.2f, -1.6f}, {1.2f, 1.6f}});
  EXPECT_TRUE(torch::allclose(e.grad(), expected, 1e-5, 1e-5)) << e.grad();
}

TEST(BatchHardLossTest, PicksFarthestPositiveAndNearestNegativePerAnchor) {
  // User 0 at 0, 1, 5; user 1 at 6, 20. Margin 0.5.
  //   anchor 0: positives {1, 5} -> 5, negatives {6, 20} -> 6:  relu(-0.5) = 0
  //   anchor 1: positives {1, 4} -> 4, negatives {5, 19} -> 5:  relu(-0.5) = 0
  //   anchor 5: positives {5, 4} -> 5, negatives {1, 15} -> 1:  4.5
  //   anchor 6: positives {14}   -> 14, negatives {6, 5, 1} -> 1: 13.5
  //   anchor 20: positives {14}  -> 14, negatives {20, 19, 15} -> 15: 0
  // Mean 18 / 5 = 3.6. The nearest positive would give 3.4, the farthest
  // negative 0.
  torch::Tensor e = OnALine({0, 1, 5, 6, 20});
  EXPECT_NEAR(BatchHardLoss(e, Labels({0, 0, 0, 1, 1}), 0.5).item<double>(), 3.6, 1e-5);
}

TEST(BatchHardLossTest, MatchesPerAnchorReferenceOnRandomEmbeddings) {
  for (uint64_t seed : {1, 2, 3}) {
    RandomBatch batch = MakeRandomBatch(seed);
    for (double margin : {0.2, 1.0, 5.0}) {
      EXPECT_NEAR(BatchHardLoss(batch.embeddings, Labels(batch.labels), margin).item<double>(),
                  ReferenceBatchHard(batch.embeddings, batch.labels, margin), 1e-4)
          << "seed " << seed << " margin " << margin;
    }
  }
}

TEST(BatchHardLossTest, IgnoresAnchorsWithoutAPositive) {
  // User 0 at 0 and 1; user 1 alone at 1.5. Margin 1.
  //   anchor 0: hp 1, hn 1.5 -> 0.5;  anchor 1: hp 1, hn 0.5 -> 1.5.
  // Anchor 1.5 has no positive: the mean is over two anchors, 1.0.
  torch::Tensor e = OnALine({0, 1, 1.5});
  EXPECT_NEAR(BatchHardLoss(e, Labels({0, 0, 1}), 1.0).item<double>(), 1.0, 1e-5);
}

TEST(BatchHardLossTest, IsZeroAndDifferentiableWhenNoAnchorHasAPositive) {
  torch::Tensor e = torch::tensor({{0.0f, 0.0f}, {1.0f, 0.0f}, {0.0f, 1.0f}}).requires_grad_();
  torch::Tensor loss = BatchHardLoss(e, Labels({0, 1, 2}), 1.0);
  EXPECT_EQ(loss.dim(), 0);
  EXPECT_EQ(loss.item<double>(), 0.0);
  loss.backward();  // The training step always back-propagates.
  EXPECT_TRUE(torch::equal(e.grad(), torch::zeros_like(e))) << e.grad();
}

TEST(BatchHardLossTest, IsZeroAndDifferentiableWhenNoAnchorHasANegative) {
  torch::Tensor e = torch::tensor({{0.0f, 0.0f}, {1.0f, 0.0f}, {0.0f, 1.0f}}).requires_grad_();
  torch::Tensor loss = BatchHardLoss(e, Labels({4, 4, 4}), 1.0);
  EXPECT_EQ(loss.item<double>(), 0.0);
  loss.backward();
  EXPECT_TRUE(torch::equal(e.grad(), torch::zeros_like(e))) << e.grad();
}

TEST(BatchHardLossTest, GradientFollowsTheChosenPairs) {
  // User 0 at 0 and 1, user 1 at 1.5, margin 1 (as in IgnoresAnchorsWithout-
  // APositive): both anchors are active, so
  //   loss = ((d01 - d02 + 1) + (d01 - d12 + 1)) / 2 = (2 d01 - d02 - d12 + 2) / 2
  // with d01 = x1 - x0, d02 = x2 - x0, d12 = x2 - x1:
  //   d/dx0 = (-2 + 1) / 2 = -0.5;  d/dx1 = (2 + 1) / 2 = 1.5;  d/dx2 = -1.
  torch::Tensor e = OnALine({0, 1, 1.5}).requires_grad_();
  BatchHardLoss(e, Labels({0, 0, 1}), 1.0).backward();
  EXPECT_TRUE(torch::allclose(e.grad(), OnALine({-0.5, 1.5, -1}), 1e-4, 1e-4)) << e.grad();
}

TEST(BatchAllLossTest, AveragesOverActiveTripletsOnly) {
  // User 0 at 0 and 2, user 1 at 3 and 4, user 2 alone at 10. Margin 1.
  //   a=0 p=2:  n=3: 2-3+1 = 0 (not positive), n=4: -1, n=10: -7
  //   a=2 p=0:  n=3: 2-1+1 = 2, n=4: 2-2+1 = 1, n=10: -5
  //   a=3 p=4:  n=0: -1, n=2: 1-1+1 = 1, n=10: -5
  //   a=4 p=3:  n=0: -2, n=2: 1-2+1 = 0 (not positive), n=10: -4
  //   a=10: no positive.
  // Active: 2, 1, 1 -> 4 / 3 (over all 12 valid triplets it would be 1/3).
  torch::Tensor e = OnALine({0, 2, 3, 4, 10});
  EXPECT_NEAR(BatchAllLoss(e, Labels({0, 0, 1, 1, 2}), 1.0).item<double>(), 4.0 / 3, 1e-5);
}

TEST(BatchAllLossTest, ExcludesZeroLossAndSelfPairTriplets) {
  // User 0 at 0 and 1, user 1 alone at 2. Margin 1.
  //   (a=0, p=1, n=2): 1 - 2 + 1 = 0, not active;
  //   (a=1, p=0, n=2): 1 - 1 + 1 = 1, active.
  // Counting the zero triplet would give 0.5; so would counting p = a
  // (distance ~0), e.g. (a=2, p=2, n=1): 0 - 1 + 1.
  torch::Tensor e = OnALine({0, 1, 2});
  EXPECT_NEAR(BatchAllLoss(e, Labels({0, 0, 1}), 1.0).item<double>(), 1.0, 1e-5);
}

TEST(BatchAllLossTest, MatchesPerTripletReferenceOnRandomEmbeddings) {
  for (uint64_t seed : {1, 2, 3}) {
    RandomBatch batch = MakeRandomBatch(seed);
    for (double margin : {0.2, 1.0, 5.0}) {
      EXPECT_NEAR(BatchAllLoss(batch.embeddings, Labels(batch.labels), margin).item<double>(),
                  ReferenceBatchAll(batch.embeddings, batch.labels, margin), 1e-4)
          << "seed " << seed << " margin " << margin;
    }
  }
}

TEST(BatchAllLossTest, IsZeroAndDifferentiableWhenNoTripletIsActive) {
  // Two tight users far apart: every triplet is satisfied by the margin.
  torch::Tensor e = OnALine({0, 1, 10, 11}).requires_grad_();
  torch::Tensor loss = BatchAllLoss(e, Labels({0, 0, 1, 1}), 1.0);
  EXPECT_EQ(loss.dim(), 0);
  EXPECT_EQ(loss.item<double>(), 0.0);
  loss.backward();  // The training step always back-propagates.
  EXPECT_TRUE(torch::equal(e.grad(), torch::zeros_like(e))) << e.grad();
}

TEST(BatchAllLossTest, IsZeroWithoutValidTriplets) {
  torch::Tensor e = OnALine({0, 1, 2});
  EXPECT_EQ(BatchAllLoss(e, Labels({0, 1, 2}), 1.0).item<double>(), 0.0);
  EXPECT_EQ(BatchAllLoss(e, Labels({3, 3, 3}), 1.0).item<double>(), 0.0);
}

TEST(NormSoftmaxLossTest, IsScaledCrossEntropyByHand) {
  // Row 0: logits 10 * (0.5, -0.5, 0) = (5, -5, 0), label 2.
  // Row 1: logits 10 * (0.9, 0.1, -0.2) = (9, 1, -2), label 0.
  torch::Tensor cosines = torch::tensor({{0.5f, -0.5f, 0.0f}, {0.9f, 0.1f, -0.2f}});
  const double row0 = std::log(std::exp(5.0) + std::exp(-5.0) + 1.0) - 0.0;
  const double row1 = std::log(std::exp(9.0) + std::exp(1.0) + std::exp(-2.0)) - 9.0;
  torch::Tensor loss = NormSoftmaxLoss(cosines, Labels({2, 0}), 10.0);
  EXPECT_EQ(loss.dim(), 0);
  EXPECT_NEAR(loss.item<double>(), (row0 + row1) / 2, 1e-5);
}

TEST(NormSoftmaxLossTest, ScaleSharpensTheSoftmax) {
  // Two classes, cosines (0.8, 0.2): loss = log(1 + exp(-0.6 * scale)).
  torch::Tensor right = torch::tensor({{0.8f, 0.2f}});
  EXPECT_NEAR(NormSoftmaxLoss(right, Labels({0}), 1.0).item<double>(), std::log1p(std::exp(-0.6)),
              1e-5);
  EXPECT_NEAR(NormSoftmaxLoss(right, Labels({0}), 16.0).item<double>(), std::log1p(std::exp(-9.6)),
              1e-5);
  // The wrong label: log(1 + exp(0.6 * scale)) grows with the scale.
  EXPECT_NEAR(NormSoftmaxLoss(right, Labels({1}), 16.0).item<double>(), std::log1p(std::exp(9.6)),
              1e-4);
}

TEST(NormSoftmaxLossTest, EqualCosinesCostLogOfTheClassCount) {
  torch::Tensor cosines = torch::full({3, 4}, 0.3f);
  EXPECT_NEAR(NormSoftmaxLoss(cosines, Labels({0, 1, 3}), 30.0).item<double>(), std::log(4.0),
              1e-5);
}

TEST(NormSoftmaxLossTest, AcceptsInt32AndInt64Labels) {
  torch::Tensor cosines = torch::tensor({{0.1f, 0.7f, -0.3f}, {0.4f, 0.0f, 0.2f}});
  const double with_int32 =
      NormSoftmaxLoss(cosines, torch::tensor({1, 2}, torch::kInt32), 8.0).item<double>();
  const double with_int64 =
      NormSoftmaxLoss(cosines, torch::tensor({1, 2}, torch::kInt64), 8.0).item<double>();
  EXPECT_DOUBLE_EQ(with_int32, with_int64);
  // Row 0: logits (0.8, 5.6, -2.4), label 1; row 1: (3.2, 0, 1.6), label 2.
  const double row0 = std::log(std::exp(0.8) + std::exp(5.6) + std::exp(-2.4)) - 5.6;
  const double row1 = std::log(std::exp(3.2) + 1.0 + std::exp(1.6)) - 1.6;
  EXPECT_NEAR(with_int32, (row0 + row1) / 2, 1e-5);
}

}  // namespace
}  // namespace tripletstream
