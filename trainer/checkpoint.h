#ifndef TRIPLETSTREAM_TRAINER_CHECKPOINT_H_
#define TRIPLETSTREAM_TRAINER_CHECKPOINT_H_

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "trainer/tcn.h"
#include "trainer/weight_average.h"

namespace tripletstream {

// What a checkpoint holds besides the weights: enough to resume the exact
// batch sequence and to preprocess raw CSVs like the server did.
struct CheckpointMeta {
  std::string model_config;  // TcnOptions::ToString().
  std::string fingerprint;   // Dataset fingerprint (16 hex digits).
  std::string loss_config;   // Loss, margin, sampling: part of the run identity.
  uint64_t seed = 0;
  int64_t step = 0;          // Optimizer steps taken.
  int64_t epoch = 0;         // Data position: epoch and next batch index.
  int64_t next_index = 0;
  int64_t world_size = 1;    // Trainer ranks that wrote the position.
  int64_t window_length = 0;
  std::vector<std::string> channel_names;
  std::vector<float> norm_mean, norm_std;
  double eer_threshold = 0;  // Accept threshold chosen at the EER on evaluation.
  // The same per session group (--session_groups; with --group_templates
  // scored against each group's own templates): what `verify --group=G`
  // accepts at. Empty in checkpoints from before, or without groups.
  std::map<std::string, double> group_thresholds;
};

// The threshold `verify` accepts at: `flag` when it is a cosine (>= -1);
// else the group's EER threshold when the checkpoint has one for `group`;
// else the pooled one. `source` (if not null) says which: "flag", "group"
// or "pooled".
double AcceptThreshold(const CheckpointMeta& meta, const std::string& group, double flag,
                       std::string* source);

// Writes model, optimizer, CPU RNG state and meta to `path` atomically
// (temporary file, read back, then committed with a digest beside it and
// the previous checkpoint kept: trainer/checkpoint_files.h).
// FAILED_PRECONDITION when the model has non-finite weights.
// With `average` (--ema) holding an average, that is kept too: resumed runs
// continue it, and embed/enroll/verify use it (it is what evaluations scored).
absl::Status SaveCheckpoint(const std::string& path, Tcn& model, torch::optim::Optimizer& optimizer,
                            const CheckpointMeta& meta, const WeightAverage* average = nullptr);

// FAILED_PRECONDITION naming the first parameter with NaN or infinite values.
absl::Status CheckFiniteParameters(Tcn& model, const std::string& what);

// Reads meta only. Callers verify the file first (VerifiedCheckpointPath).
absl::StatusOr<CheckpointMeta> ReadCheckpointMeta(const std::string& path);

// Restores weights (and, when given, the optimizer and the CPU RNG state,
// and `average` from the checkpoint's weight average when it has one).
absl::Status LoadCheckpoint(const std::string& path, Tcn& model,
                            torch::optim::Optimizer* optimizer, WeightAverage* average = nullptr);

// For inference: the checkpoint's weight average when it has one (a run
// with --ema), else its weights.
absl::Status LoadModelWeights(const std::string& path, Tcn& model);

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_TRAINER_CHECKPOINT_H_
