#ifndef TRIPLETSTREAM_COMMON_PREPARED_DATASET_H_
#define TRIPLETSTREAM_COMMON_PREPARED_DATASET_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/dataset.h"
#include "common/derived_channels.h"
#include "common/normalizer.h"
#include "common/split.h"
#include "common/window_index.h"

namespace tripletstream {

struct PreprocessConfig {
  int window_length = 128;
  int window_stride = 64;
  SplitConfig split;
  // Orientation-invariant channels computed from the raw ones first
  // (common/derived_channels.h); their names are in the channel list.
  DerivedChannelsConfig derived;
};

// A dataset ready to serve: normalized in place with training-split
// statistics, split, windowed and fingerprinted. Immutable after
// PrepareDataset, so any number of threads may read it.
struct PreparedDataset {
  Dataset data;  // Normalized values.
  PreprocessConfig config;
  SplitAssignment splits;
  NormStats norm;
  WindowIndex windows;
  // Hash of the raw parsed values, names and `config`.
  uint64_t fingerprint = 0;

  int channels() const { return data.channels(); }
  int window_length() const { return config.window_length; }
  // Floats in one window.
  int64_t window_floats() const {
    return static_cast<int64_t>(config.window_length) * channels();
  }
  const float* WindowData(const WindowRef& w) const {
    return data.series[w.series].data() +
           static_cast<int64_t>(w.offset) * channels();
  }
};

// Takes ownership of `dataset`. Errors: window/stride not positive, window
// longer than every session (names the longest session), fewer than two
// training users with windows.
absl::StatusOr<std::unique_ptr<PreparedDataset>> PrepareDataset(
    Dataset dataset, const PreprocessConfig& config);

// 16 lowercase hex digits.
std::string FingerprintHex(uint64_t fingerprint);

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_COMMON_PREPARED_DATASET_H_
