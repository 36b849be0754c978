#include "trainer/weight_average.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "trainer/run_setup.h"

namespace tripletstream {
namespace {

Tcn SmallModel() {
  TcnOptions options;
  options.in_channels = 3;
  options.channels = 4;
  options.levels = 2;
  options.embedding = 4;
  torch::manual_seed(3);
  return Tcn(options);
}

void FillWith(Tcn& model, float value) {
  torch::NoGradGuard no_grad;
  for (torch::Tensor& t : ModelState(model)) t.fill_(value);
}

float First(Tcn& model) { return ModelState(model)[0].flatten()[0].item<float>(); }

// The average follows d = min(decay, (1 + n) / (10 + n)): the first update
// copies, the second mixes 1/10 of the new weights in, and so on.
TEST(WeightAverageTest, AveragesWithAWarmUpAndSwapsBackAndForth) {
  Tcn model = SmallModel();
  WeightAverage average(0.99);
  FillWith(model, 1.0f);
  average.Update(model);  // n = 0: average = 1.
  FillWith(model, 11.0f);
  average.Update(model);  // n = 1: d = 2/11, average = 2/11 + 9/11 * 11 = 9.18...
  const float expected = 2.0f / 11 * 1 + 9.0f / 11 * 11;
  EXPECT_EQ(average.updates(), 2);
  average.Swap(model);
  EXPECT_NEAR(First(model), expected, 1e-4);
  average.Swap(model);
  EXPECT_FLOAT_EQ(First(model), 11.0f);
  {
    ScopedAverage scoped(average, model);
    EXPECT_NEAR(First(model), expected, 1e-4);
  }
  EXPECT_FLOAT_EQ(First(model), 11.0f);
}

TEST(WeightAverageTest, OffChangesNothing) {
  Tcn model = SmallModel();
  WeightAverage off;
  FillWith(model, 2.0f);
  off.Update(model);
  FillWith(model, 5.0f);
  ScopedAverage scoped(off, model);
  EXPECT_FLOAT_EQ(First(model), 5.0f);
  EXPECT_FALSE(off.enabled());
}

}  // namespace
}  // namespace tripletstream
