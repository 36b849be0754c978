#include "trainer/weight_average.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

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

absl::Status WeightAverage::Restore(Tcn& model, std::vector<torch::Tensor> state,
                                    int64_t updates) {
  const std::vector<torch::Tensor> model_state = ModelState(model);
  if (state.size() != model_state.size()) {
    return absl::InvalidArgumentError(absl::StrCat("the checkpoint's weight average has ",
                                                   state.size(), " tensors, the model ",
                                                   model_state.size()));
  }
  for (size_t i = 0; i < state.size(); ++i) {
    if (!state[i].sizes().equals(model_state[i].sizes())) {
      return absl::InvalidArgumentError(
          absl::StrCat("the checkpoint's weight average does not fit the model (tensor ", i, ")"));
    }
    state[i] = state[i].to(model_state[i].device(), model_state[i].scalar_type());
  }
  average_ = std::move(state);
  updates_ = updates;
  return absl::OkStatus();
}

}  // namespace tripletstream
