#ifndef TRIPLETSTREAM_TRAINER_TRAIN_STEP_H_
#define TRIPLETSTREAM_TRAINER_TRAIN_STEP_H_

#include <torch/torch.h>

#include <cstdint>

#include "absl/status/statusor.h"
#include "trainer/tcn.h"
#include "trainer/training.h"
#include "tripletstream/v1/tripletstream.pb.h"

namespace tripletstream {

class DeviceInput;
class GradientReducer;

struct StepOutcome {
  double loss = 0;      // With a reducer: the loss over every rank's batch.
  int64_t anchors = 0;  // Triplets (or P x K windows) in this rank's batch.
  double spread = -1;   // Mean pairwise embedding distance (P x K batches).
  double stop_votes = 0;  // With a reducer: the ranks' stop votes summed.
  double allreduce_s = 0;  // Time spent waiting for the gradient all-reduces.
};

// One optimizer step on `batch` at learning rate `lr`: forward, the
// configured loss, backward, clipping, AdamW. `step` is the number of steps
// taken before this one (batch-hard mining starts at hard_mining_after).
// INTERNAL when LibTorch throws; FAILED_PRECONDITION when the loss is not
// finite (the run would only train a NaN model from here). `input` (CUDA)
// stages the batch through pinned buffers and a side stream; null copies it
// plainly (or, on CPU, views the message bytes).
absl::StatusOr<StepOutcome> TrainStep(const TrainConfig& config, int64_t step, double lr,
                                      v1::Batch& batch, Tcn& model,
                                      torch::optim::AdamW& optimizer,
                                      const torch::Device& device, DeviceInput* input = nullptr);

// The data-parallel step: as above, with the gradients averaged over the
// ranks by `reducer` before clipping and AdamW, so every rank takes the same
// step. `batch` is null when this rank has none at this step (it joins with
// weight 0). `stop_vote` > 0: this rank asks every rank to stop after this
// step; the votes are summed into StepOutcome::stop_votes.
// UNAVAILABLE / DEADLINE_EXCEEDED when another rank went away.
absl::StatusOr<StepOutcome> DistributedTrainStep(const TrainConfig& config, int64_t step,
                                                 double lr, v1::Batch* batch, Tcn& model,
                                                 torch::optim::AdamW& optimizer,
                                                 const torch::Device& device,
                                                 GradientReducer& reducer, double stop_vote,
                                                 DeviceInput* input = nullptr);

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_TRAINER_TRAIN_STEP_H_
