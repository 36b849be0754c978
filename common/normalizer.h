#ifndef TRIPLETSTREAM_COMMON_NORMALIZER_H_
#define TRIPLETSTREAM_COMMON_NORMALIZER_H_

#include <cstdint>
#include <vector>

#include "common/dataset.h"

namespace tripletstream {

// Per-channel z-score statistics. They travel to clients in
// GetDatasetInfo and, in the trainer, inside the model checkpoint, so raw
// CSVs can be preprocessed exactly as the server did.
struct NormStats {
  std::vector<float> mean;
  std::vector<float> std;  // Never below kMinStd.
  static constexpr float kMinStd = 1e-6f;
};

// Mean and (population) standard deviation of every channel over the series
// whose `include` entry is true, accumulated in double precision in series
// order.
NormStats ComputeNormStats(const Dataset& dataset, const std::vector<bool>& include);

// In place: x = (x - mean) / std for `rows` rows of stats.mean.size() channels.
void NormalizeRows(const NormStats& stats, float* values, int64_t rows);

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_COMMON_NORMALIZER_H_
