#ifndef TRIPLETSTREAM_TRAINER_RUN_SETUP_H_
#define TRIPLETSTREAM_TRAINER_RUN_SETUP_H_

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/batch_stream.h"
#include "trainer/checkpoint.h"
#include "trainer/evaluation.h"
#include "trainer/tcn.h"
#include "trainer/training.h"
#include "trainer/weight_average.h"
#include "tripletstream/v1/tripletstream.pb.h"

namespace tripletstream {

class ProcessGroup;

// Everything a run holds between steps, made by PrepareRun.
struct TrainingRun {
  std::vector<std::string> servers;  // Addresses at start.
  torch::Device device = torch::kCPU;
  v1::GetDatasetInfoResponse info;
  Tcn model{nullptr};
  std::unique_ptr<torch::optim::AdamW> optimizer;
  CheckpointMeta meta;               // Run identity and data position.
  WeightAverage average;             // --ema: what evaluations score; checkpointed.
  std::string checkpoint_path;       // Empty = no checkpoints.
};

// Resolves the servers, fetches the dataset description, builds the model
// and optimizer and, with --resume, restores them after checking that the
// checkpoint belongs to this dataset, model and run.
// With a process group (data-parallel ranks): only rank 0 keeps a
// checkpoint path, rank 0's checkpoint is sent to every rank on --resume,
// and every rank starts from rank 0's weights.
absl::StatusOr<std::unique_ptr<TrainingRun>> PrepareRun(const TrainConfig& config,
                                                        const ServerResolver& resolve,
                                                        ProcessGroup* group = nullptr);

// The evaluator for the run's servers, enrollment regex and session groups.
absl::StatusOr<std::unique_ptr<Evaluator>> MakeEvaluator(const TrainConfig& config,
                                                         const TrainingRun& run);

// The training stream from the run's data position.
BatchStreamOptions StreamOptions(const TrainConfig& config, const TrainingRun& run,
                                 const ServerResolver& resolve);

// The model's parameters, then its buffers: what ranks share and what model
// selection keeps.
std::vector<torch::Tensor> ModelState(Tcn& model);

// The client options both the stream and evaluation use.
ClientOptions ClientOptionsOf(const TrainConfig& config);

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_TRAINER_RUN_SETUP_H_
