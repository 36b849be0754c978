#ifndef TRIPLETSTREAM_TRAINER_WEIGHT_AVERAGE_H_
#define TRIPLETSTREAM_TRAINER_WEIGHT_AVERAGE_H_

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "trainer/tcn.h"

namespace tripletstream {

// An exponential moving average of the model's weights (Polyak averaging,
// --ema=DECAY): after every optimizer step,
//   average = d * average + (1 - d) * weights,  d = min(DECAY, (1 + n) / (10 + n))
// for the n-th update (the warm-up keeps early averages from dwelling on the
// random initialization). Evaluations score the averaged weights: Swap puts
// them into the model and the second Swap puts the trained weights back.
class WeightAverage {
 public:
  WeightAverage() = default;
  explicit WeightAverage(double decay) : decay_(decay) {}

  bool enabled() const { return decay_ > 0; }
  int64_t updates() const { return updates_; }

  // After an optimizer step.
  void Update(Tcn& model);
  // Exchanges the model's weights and the average (no-op when disabled or
  // before the first update).
  void Swap(Tcn& model);

  // What a checkpoint keeps: the averaged tensors (ModelState order) and the
  // update count; empty before the first update.
  const std::vector<torch::Tensor>& state() const { return average_; }
  // Continues from a checkpoint's average (a resumed run). INVALID_ARGUMENT
  // when the tensors do not match the model's.
  absl::Status Restore(Tcn& model, std::vector<torch::Tensor> state, int64_t updates);

 private:
  double decay_ = 0;
  int64_t updates_ = 0;
  std::vector<torch::Tensor> average_;
};

// Swaps the average in for a scope (an evaluation) and back out.
class ScopedAverage {
 public:
  ScopedAverage(WeightAverage& average, Tcn& model) : average_(average), model_(model) {
    average_.Swap(model_);
  }
  ~ScopedAverage() { average_.Swap(model_); }
  ScopedAverage(const ScopedAverage&) = delete;
  ScopedAverage& operator=(const ScopedAverage&) = delete;

 private:
  WeightAverage& average_;
  Tcn& model_;
};

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_TRAINER_WEIGHT_AVERAGE_H_
