#include "trainer/weight_average.h"

#include <algorithm>

#include "trainer/run_setup.h"

namespace tripletstream {

void WeightAverage::Update(Tcn& model) {
  if (!enabled()) return;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> state = ModelState(model);
  if (average_.empty()) {
    for (const torch::Tensor& t : state) average_.push_back(t.detach().clone());
    ++updates_;
    return;
  }
  const double n = static_cast<double>(updates_);
  const double d = std::min(decay_, (1 + n) / (10 + n));
  for (size_t i = 0; i < state.size(); ++i) {
    if (!average_[i].is_floating_point()) {
      average_[i].copy_(state[i]);
      continue;
    }
    average_[i].mul_(d).add_(state[i].detach(), 1 - d);
  }
  ++updates_;
}

void WeightAverage::Swap(Tcn& model) {
  if (!enabled() || average_.empty()) return;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> state = ModelState(model);
  for (size_t i = 0; i < state.size(); ++i) {
    torch::Tensor trained = state[i].detach().clone();
    state[i].copy_(average_[i]);
    average_[i].copy_(trained);
  }
}

}  // namespace tripletstream
