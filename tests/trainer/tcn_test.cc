#include "trainer/tcn.h"

#include <gtest/gtest.h>

#include <cmath>

#include "trainer/losses.h"

namespace tripletstream {
namespace {

TcnOptions Small() {
  TcnOptions o;
  o.in_channels = 3;
  o.channels = 8;
  o.levels = 3;
  o.kernel_size = 3;
  o.dropout = 0;
  o.embedding = 5;
  return o;
}

TEST(TcnTest, OutputShapeAndUnitNorm) {
  torch::manual_seed(1);
  Tcn model(Small());
  torch::Tensor e = model->forward(torch::randn({4, 50, 3}));
  ASSERT_EQ(e.sizes(), (std::vector<int64_t>{4, 5}));
  EXPECT_TRUE(torch::allclose(e.norm(2, 1), torch::ones({4}), 1e-5, 1e-5));
}

TEST(TcnTest, ReceptiveFieldFormula) {
  EXPECT_EQ(ReceptiveField(Small()), 1 + 2 * 2 * 7);
  TcnOptions o;  // 5 levels, kernel 3
  EXPECT_EQ(ReceptiveField(o), 125);
}

// Output at time t must not change when inputs after t change, and must
// change when the input ReceptiveField - 1 steps before t changes, but not
// earlier.
TEST(TcnTest, CausalWithTheStatedReceptiveField) {
  for (bool weight_norm : {false, true}) {
    torch::manual_seed(2);
    TcnOptions o = Small();
    o.weight_norm = weight_norm;
    Tcn model(o);
    model->eval();
    torch::NoGradGuard no_grad;
    const int64_t t = 40, rf = ReceptiveField(o);
    torch::Tensor x = torch::randn({1, 60, 3});
    torch::Tensor base = model->Features(x);
    torch::Tensor future = x.clone();
    future.index_put_({0, torch::indexing::Slice(t + 1, torch::indexing::None)}, 5.0);
    EXPECT_TRUE(torch::allclose(model->Features(future).select(2, t), base.select(2, t)));
    torch::Tensor inside = x.clone();
    inside.index_put_({0, t - rf + 1}, 5.0);
    EXPECT_FALSE(torch::allclose(model->Features(inside).select(2, t), base.select(2, t)));
    torch::Tensor outside = x.clone();
    outside.index_put_({0, t - rf}, 5.0);
    EXPECT_TRUE(torch::allclose(model->Features(outside).select(2, t), base.select(2, t)));
  }
}

TEST(TcnTest, ChildrenAreRegisteredByName) {
  Tcn model(Small());
  auto names = model->named_parameters().keys();
  EXPECT_NE(std::find(names.begin(), names.end(), "blocks.0.conv1.weight"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "blocks.0.projection.weight"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "head.weight"), names.end());
}

TEST(LossTest, TripletMarginByHand) {
  // d(a,p) = 1, d(a,n) = 2 for row 0 -> relu(1 - 2 + 0.5) = 0;
  // row 1: d(a,p) = 3, d(a,n) = 1 -> relu(3 - 1 + 0.5) = 2.5. Mean 1.25.
  torch::Tensor a = torch::tensor({{0.0f, 0.0f}, {0.0f, 0.0f}});
  torch::Tensor p = torch::tensor({{1.0f, 0.0f}, {3.0f, 0.0f}});
  torch::Tensor n = torch::tensor({{0.0f, 2.0f}, {0.0f, 1.0f}});
  EXPECT_NEAR(TripletMarginLoss(a, p, n, 0.5).item<double>(), 1.25, 1e-5);
}

TEST(LossTest, BatchHardByHand) {
  // Points on a line: user 0 at 0 and 1, user 1 at 3 and 7.
  torch::Tensor e = torch::tensor({{0.0f}, {1.0f}, {3.0f}, {7.0f}});
  torch::Tensor labels = torch::tensor({0, 0, 1, 1}, torch::kInt32);
  // anchor 0: hp 1, hn 3 -> 0; anchor 1: hp 1, hn 2 -> 0;
  // anchor 2: hp 4, hn 2 -> 2 + m; anchor 3: hp 4, hn 6 -> 0. m = 1: mean 3/4.
  EXPECT_NEAR(BatchHardLoss(e, labels, 1.0).item<double>(), 0.75, 1e-4);
}

TEST(LossTest, BatchAllAveragesActiveTriplets) {
  torch::Tensor e = torch::tensor({{0.0f}, {1.0f}, {3.0f}, {7.0f}});
  torch::Tensor labels = torch::tensor({0, 0, 1, 1}, torch::kInt32);
  // Valid (a,p,n): a=0:p=1,n in {2,3}: 1-3+1=-1, 1-7+1=-5 -> none active.
  // a=1:p=0: 1-2+1=0, 1-6+1=-4 -> none. a=2:p=3: 4-3+1=2, 4-2+1=3.
  // a=3:p=2: 4-7+1=-2, 4-6+1=-1 -> none. Mean of the active ones = 2.5.
  EXPECT_NEAR(BatchAllLoss(e, labels, 1.0).item<double>(), 2.5, 1e-4);
}

TEST(LossTest, BatchHardHasGradientsAtCoincidentPoints) {
  torch::Tensor e = torch::zeros({4, 3}, torch::requires_grad());
  torch::Tensor labels = torch::tensor({0, 0, 1, 1}, torch::kInt32);
  torch::Tensor loss = BatchHardLoss(e, labels, 0.5);
  loss.backward();
  EXPECT_FALSE(torch::isnan(e.grad()).any().item<bool>());
  EXPECT_NEAR(loss.item<double>(), 0.5, 1e-3);  // Collapse costs exactly the margin.
}

TEST(LossTest, NormSoftmaxByHand) {
  // Row 0: cosines (1, 0), label 0; row 1: cosines (0, 0), label 1. Scale 2:
  // -log(e^2 / (e^2 + 1)) and -log(1/2); mean of the two.
  torch::Tensor cosines = torch::tensor({{1.0f, 0.0f}, {0.0f, 0.0f}});
  torch::Tensor labels = torch::tensor({0, 1}, torch::kInt32);
  const double expected = (std::log1p(std::exp(-2.0)) + std::log(2.0)) / 2;
  EXPECT_NEAR(NormSoftmaxLoss(cosines, labels, 2.0).item<double>(), expected, 1e-5);
}

TEST(TcnTest, ProxiesOnlyWithClassesAndInTheConfig) {
  TcnOptions options = Small();
  EXPECT_EQ(options.ToString().find("cls="), std::string::npos);
  options.classes = 5;
  EXPECT_NE(options.ToString().find(" cls=5"), std::string::npos);
  auto parsed = ParseTcnOptions(options.ToString());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->classes, 5);
  Tcn model(options);
  auto names = model->named_parameters().keys();
  EXPECT_NE(std::find(names.begin(), names.end(), "proxies"), names.end());
  torch::Tensor e = model->forward(torch::randn({3, 40, options.in_channels}));
  torch::Tensor cosines = model->ProxyCosines(e);
  EXPECT_EQ(cosines.sizes(), (std::vector<int64_t>{3, 5}));
  EXPECT_LE(cosines.abs().max().item<double>(), 1.0 + 1e-5);
  Tcn plain(Small());
  auto plain_names = plain->named_parameters().keys();
  EXPECT_EQ(std::find(plain_names.begin(), plain_names.end(), "proxies"), plain_names.end());
}

TEST(TcnTest, StatsPoolingSeesHowMuchAWindowVaries) {
  TcnOptions options = Small();
  EXPECT_EQ(options.ToString().find("pool="), std::string::npos);  // Old configs unchanged.
  options.stats_pooling = true;
  options.classes = 4;
  auto parsed = ParseTcnOptions(options.ToString());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->stats_pooling);
  EXPECT_EQ(parsed->classes, 4);
  EXPECT_EQ(parsed->ToString(), options.ToString());
  EXPECT_FALSE(ParseTcnOptions(Small().ToString() + " pool=max").ok());

  torch::manual_seed(3);
  Tcn model(options);
  // The head reads mean and standard deviation: twice the block width.
  EXPECT_EQ(model->named_parameters()["head.weight"].size(1), 2 * options.channels);
  model->eval();
  torch::Tensor x = torch::randn({2, 60, options.in_channels});
  torch::Tensor e = model->forward(x);
  ASSERT_EQ(e.sizes(), (std::vector<int64_t>{2, options.embedding}));
  EXPECT_TRUE(torch::allclose(e.norm(2, 1), torch::ones({2}), 1e-5, 1e-5));
  // A constant input has zero spread: the small floor keeps it finite and
  // its gradient too.
  torch::Tensor flat = torch::ones({1, 60, options.in_channels}).requires_grad_();
  model->train();
  torch::Tensor out = model->forward(flat);
  out.sum().backward();
  EXPECT_TRUE(torch::isfinite(out).all().item<bool>());
  EXPECT_TRUE(torch::isfinite(flat.grad()).all().item<bool>());
}

}  // namespace
}  // namespace tripletstream
