#include "trainer/relu_dropout.h"

#include <gtest/gtest.h>

#include "trainer/tcn.h"

namespace tripletstream {
namespace {

constexpr uint64_t kKey = 0x1234567890abcdefULL;

TEST(ReluDropoutTest, ZeroProbabilityIsPlainRelu) {
  torch::manual_seed(3);
  torch::Tensor x = torch::randn({4, 8, 16}, torch::requires_grad());
  torch::Tensor y = ReluDropout(x, 0.0, kKey);
  EXPECT_TRUE(torch::equal(y, torch::relu(x)));
  y.sum().backward();
  EXPECT_TRUE(torch::equal(x.grad(), (x > 0).to(torch::kFloat32)));
}

TEST(ReluDropoutTest, KeptPositiveElementsAreScaledAndAllOthersAreZero) {
  torch::manual_seed(4);
  torch::Tensor x = torch::randn({100000});
  const double p = 0.25;
  torch::Tensor y = ReluDropout(x, p, kKey);
  const float* in = x.data_ptr<float>();
  const float* out = y.data_ptr<float>();
  int64_t kept = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    const bool keep = ReluDropoutKeeps(p, kKey, i);
    kept += keep;
    const float expected = keep && in[i] > 0 ? in[i] / 0.75f : 0.0f;
    ASSERT_FLOAT_EQ(out[i], expected) << "element " << i;
  }
  // 75,000 expected; the binomial standard deviation is ~137.
  EXPECT_NEAR(kept, 75000, 1000);
}

TEST(ReluDropoutTest, GradientFlowsOnlyThroughKeptPositiveElements) {
  torch::manual_seed(5);
  torch::Tensor x = torch::randn({3, 5, 40}, torch::requires_grad());
  torch::Tensor w = torch::randn({3, 5, 40});
  const double p = 0.5;
  (ReluDropout(x, p, kKey) * w).sum().backward();
  torch::Tensor flat_x = x.detach().flatten(), flat_w = w.flatten();
  torch::Tensor grad = x.grad().flatten();
  for (int64_t i = 0; i < flat_x.numel(); ++i) {
    const bool passes = ReluDropoutKeeps(p, kKey, i) && flat_x[i].item<float>() > 0;
    ASSERT_FLOAT_EQ(grad[i].item<float>(), passes ? 2.0f * flat_w[i].item<float>() : 0.0f)
        << "element " << i;
  }
}

TEST(ReluDropoutTest, MaskIsAFunctionOfTheKeyAloneNotOfThreads) {
  torch::manual_seed(6);
  torch::Tensor x = torch::rand({1 << 18}) + 0.1;  // All positive.
  const int threads = torch::get_num_threads();
  torch::set_num_threads(1);
  torch::Tensor one_thread = ReluDropout(x, 0.3, kKey);
  torch::set_num_threads(4);
  torch::Tensor four_threads = ReluDropout(x, 0.3, kKey);
  torch::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(one_thread, four_threads));
  torch::Tensor other_key = ReluDropout(x, 0.3, kKey + 1);
  const double overlap =
      ((one_thread > 0) == (other_key > 0)).to(torch::kFloat64).mean().item<double>();
  // Independent masks agree on 0.7^2 + 0.3^2 = 58% of the elements.
  EXPECT_NEAR(overlap, 0.58, 0.01);
}

TEST(ReluDropoutTest, RejectsProbabilityOutsideRange) {
  EXPECT_THROW(ReluDropout(torch::ones({2}), 1.0, kKey), c10::Error);
  EXPECT_THROW(ReluDropout(torch::ones({2}), -0.1, kKey), c10::Error);
}

TcnOptions WithDropout() {
  TcnOptions o;
  o.in_channels = 3;
  o.channels = 8;
  o.levels = 2;
  o.dropout = 0.3;
  o.embedding = 4;
  return o;
}

// Each training forward draws new masks; a model restored from a saved state
// continues with exactly the masks the original would have used.
TEST(ReluDropoutTest, TcnMasksAdvancePerForwardAndResumeFromSavedState) {
  torch::manual_seed(7);
  Tcn model(WithDropout());
  torch::Tensor x = torch::randn({2, 20, 3});
  torch::Tensor first = model->forward(x);
  torch::Tensor second = model->forward(x);
  EXPECT_FALSE(torch::allclose(first, second));

  torch::serialize::OutputArchive out;
  model->save(out);
  std::ostringstream bytes;
  out.save_to(bytes);
  torch::manual_seed(99);  // A different seed: the state must come from the archive.
  Tcn restored(WithDropout());
  torch::serialize::InputArchive in;
  std::istringstream source(bytes.str());
  in.load_from(source);
  restored->load(in);
  EXPECT_TRUE(torch::equal(model->forward(x), restored->forward(x)));

  model->eval();
  restored->eval();
  torch::Tensor evaluated = model->forward(x);
  EXPECT_TRUE(torch::equal(evaluated, model->forward(x)));  // No dropout in eval.
  EXPECT_TRUE(torch::equal(evaluated, restored->forward(x)));
}

}  // namespace
}  // namespace tripletstream
