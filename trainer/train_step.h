#ifndef TRIPLETSTREAM_TRAINER_TRAIN_STEP_H_
#define TRIPLETSTREAM_TRAINER_TRAIN_STEP_H_

#include <torch/torch.h>

#include <cstdint>

#include "absl/status/statusor.h"
#include "trainer/tcn.h"
#include "trainer/training.h"
#include "tripletstream/v1/tripletstream.pb.h"

namespace tripletstream {

struct StepOutcome {
  double loss = 0;
  int64_t anchors = 0;  // Triplets (or P x K windows) in the batch.
  double spread = -1;   // Mean pairwise embedding distance (P x K batches).
};

// One optimizer step on `batch` at learning rate `lr`: forward, the
// configured loss, backward, clipping, AdamW. `step` is the number of steps
// taken before this one (batch-hard mining starts at hard_mining_after).
// INTERNAL when LibTorch throws; FAILED_PRECONDITION when the loss is not
// finite (the run would only train a NaN model from here).
absl::StatusOr<StepOutcome> TrainStep(const TrainConfig& config, int64_t step, double lr,
                                      v1::Batch& batch, Tcn& model,
                                      torch::optim::AdamW& optimizer,
                                      const torch::Device& device);

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_TRAINER_TRAIN_STEP_H_
