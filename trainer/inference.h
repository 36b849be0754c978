#ifndef TRIPLETSTREAM_TRAINER_INFERENCE_H_
#define TRIPLETSTREAM_TRAINER_INFERENCE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "trainer/checkpoint.h"
#include "trainer/evaluation.h"
#include "trainer/tcn.h"

namespace tripletstream {

// A trained model and the preprocessing it was trained with.
struct LoadedModel {
  Tcn model{nullptr};
  CheckpointMeta meta;
};

// Reads a checkpoint written by `train` (model config from its meta).
absl::StatusOr<LoadedModel> LoadModel(const std::string& checkpoint);

// Windows of raw CSV files preprocessed exactly as the server does
// (common/): the checkpoint's channels selected by name, its normalization
// statistics, its window length, the given stride. Session label = file
// position in `files`. Files too short for one window are an error naming
// them.
absl::StatusOr<WindowSet> WindowsFromCsv(const std::vector<std::string>& files,
                                         const CheckpointMeta& meta, int stride);

// The normalized mean of L2-normalized embeddings (rows of `dim`).
std::vector<float> MeanTemplate(const std::vector<float>& embeddings, int dim);

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_TRAINER_INFERENCE_H_
