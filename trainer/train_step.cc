#include "trainer/train_step.h"

#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include <ATen/autocast_mode.h>

#include <tuple>

#include "trainer/device_input.h"
#include "trainer/distributed.h"
#include "trainer/losses.h"

namespace tripletstream {
namespace {

// Mixed precision for the forward pass (--amp=bf16 on CUDA): matmuls and
// convolutions in bfloat16, the losses in float32. bfloat16 keeps float32's
// exponent range, so no gradient scaler is needed (LibTorch 1.13's C++ API
// has none, which is why fp16 is not offered).
class AutocastScope {
 public:
  explicit AutocastScope(bool on) : on_(on) {
    if (!on_) return;
    at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
    at::autocast::set_enabled(true);
    at::autocast::increment_nesting();
  }
  ~AutocastScope() {
    if (!on_) return;
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    at::autocast::set_enabled(false);
  }

 private:
  const bool on_;
};

// The loss of one batch; fills `outcome` with its size and spread. With
// `input` the batch reaches the device through its pinned ring and side
// stream; without, its bytes are viewed in place (CPU) or copied plainly.
torch::Tensor BatchLoss(const TrainConfig& config, int64_t step, v1::Batch& batch, Tcn& model,
                        const torch::Device& device, DeviceInput* input, StepOutcome* outcome) {
  std::vector<int64_t> shape(batch.shape().begin(), batch.shape().end());
  torch::Tensor data, labels;
  if (input != nullptr) {
    std::tie(data, labels) = input->Stage(batch);
  } else {
    data = torch::from_blob(batch.mutable_data()->data(), shape, torch::kFloat32).to(device);
    // One user label per window: 3B for triplet batches, P*K otherwise.
    labels = torch::from_blob(batch.mutable_labels()->mutable_data(), {batch.labels_size()},
                              torch::kInt32)
                 .to(device);
  }
  torch::Tensor loss, e;
  const bool amp = config.amp == "bf16";
  if (batch.mode() == v1::SAMPLING_MODE_TRIPLET) {
    const int64_t n = shape[1];
    outcome->anchors = n;
    {
      AutocastScope autocast(amp);
      e = model->forward(data.view({3 * n, shape[2], shape[3]}));
    }
    e = e.to(torch::kFloat32);
    auto parts = e.split(n);
    loss = TripletMarginLoss(parts[0], parts[1], parts[2], config.margin);
  } else {
    outcome->anchors = shape[0];
    {
      AutocastScope autocast(amp);
      e = model->forward(data);
    }
    e = e.to(torch::kFloat32);
    // Collapse guard: batch-hard from a random start tends to pull every
    // embedding to one point (loss stuck at the margin), so the first
    // `hard_mining_after` steps use batch-all.
    const bool hard = config.loss == LossKind::kBatchHard && step >= config.hard_mining_after;
    loss = hard ? BatchHardLoss(e, labels, config.margin) : BatchAllLoss(e, labels, config.margin);
    outcome->spread = PairwiseDistances(e.detach()).mean().item<double>();
  }
  if (config.softmax_weight > 0) {
    loss = loss + config.softmax_weight *
                      NormSoftmaxLoss(model->ProxyCosines(e), labels, config.softmax_scale);
  }
  return loss;
}

void SetLearningRate(torch::optim::AdamW& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) {
    static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
  }
}

absl::Status NotFinite(double loss, int64_t step, const std::string& where) {
  return absl::FailedPreconditionError(
      absl::StrCat("the loss is ", loss, " at step ", step + 1, where,
                   ": training diverged; lower --lr, check --margin and --softmax_scale"));
}

// Clipping and AdamW on the (averaged) gradients.
void ApplyGradients(const TrainConfig& config, Tcn& model, torch::optim::AdamW& optimizer) {
  if (config.clip_norm > 0) {
    torch::nn::utils::clip_grad_norm_(model->parameters(), config.clip_norm);
  }
  optimizer.step();
}

}  // namespace

absl::StatusOr<StepOutcome> TrainStep(const TrainConfig& config, int64_t step, double lr,
                                      v1::Batch& batch, Tcn& model,
                                      torch::optim::AdamW& optimizer,
                                      const torch::Device& device, DeviceInput* input) {
  StepOutcome outcome;
  try {
    SetLearningRate(optimizer, lr);
    optimizer.zero_grad();
    torch::Tensor loss = BatchLoss(config, step, batch, model, device, input, &outcome);
    outcome.loss = loss.item<double>();
    if (!std::isfinite(outcome.loss)) {
      return NotFinite(outcome.loss, step, absl::StrCat(" (batch ", batch.index(), " of epoch ",
                                                        batch.epoch(), ")"));
    }
    loss.backward();
    ApplyGradients(config, model, optimizer);
  } catch (const c10::Error& e) {
    return absl::InternalError(
        absl::StrCat("training step ", step + 1, " failed: ", e.what_without_backtrace()));
  }
  return outcome;
}

absl::StatusOr<StepOutcome> DistributedTrainStep(const TrainConfig& config, int64_t step,
                                                 double lr, v1::Batch* batch, Tcn& model,
                                                 torch::optim::AdamW& optimizer,
                                                 const torch::Device& device,
                                                 GradientReducer& reducer, double stop_vote,
                                                 DeviceInput* input) {
  StepOutcome outcome;
  try {
    SetLearningRate(optimizer, lr);
    optimizer.zero_grad();
    torch::Tensor loss;
    double local_loss = 0;
    if (batch != nullptr) {
      loss = BatchLoss(config, step, *batch, model, device, input, &outcome);
      local_loss = loss.item<double>();
    } else {
      model->SkipTrainingForward();  // Dropout counters stay in step.
    }
    // Every rank joins the all-reduce, even with a non-finite loss, so all
    // of them see the same total and fail together.
    reducer.Begin(static_cast<double>(outcome.anchors), local_loss, stop_vote);
    if (batch != nullptr) loss.backward();
    auto reduced = reducer.Finish();
    if (!reduced.ok()) return reduced.status();
    outcome.loss = reduced->mean_loss;
    outcome.stop_votes = reduced->stop_votes;
    outcome.allreduce_s = reduced->wait_s;
    if (!std::isfinite(outcome.loss) || !std::isfinite(local_loss)) {
      return NotFinite(outcome.loss, step, " (over all ranks)");
    }
    ApplyGradients(config, model, optimizer);
  } catch (const c10::Error& e) {
    return absl::InternalError(
        absl::StrCat("training step ", step + 1, " failed: ", e.what_without_backtrace()));
  }
  return outcome;
}

}  // namespace tripletstream
