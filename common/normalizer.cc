#include "common/normalizer.h"

#include <cmath>

namespace tripletstream {

NormStats ComputeNormStats(const Dataset& dataset, const std::vector<bool>& include) {
  const int channels = dataset.channels();
  NormStats stats;
  stats.mean.assign(channels, 0.0f);
  stats.std.assign(channels, 1.0f);
  // Two passes (mean, then squared deviations) stay accurate for channels
  // with a large offset, where sum(x^2) - n*mean^2 would cancel.
  std::vector<double> sum(channels, 0.0);
  int64_t count = 0;
  for (size_t s = 0; s < dataset.series.size(); ++s) {
    if (!include[s]) continue;
    const float* v = dataset.series[s].values.data();
    const int64_t rows = dataset.series[s].rows(channels);
    for (int64_t r = 0; r < rows; ++r) {
      for (int c = 0; c < channels; ++c) sum[c] += v[r * channels + c];
    }
    count += rows;
  }
  if (count == 0) return stats;
  std::vector<double> mean(channels), sq(channels, 0.0);
  for (int c = 0; c < channels; ++c) mean[c] = sum[c] / count;
  for (size_t s = 0; s < dataset.series.size(); ++s) {
    if (!include[s]) continue;
    const float* v = dataset.series[s].values.data();
    const int64_t rows = dataset.series[s].rows(channels);
    for (int64_t r = 0; r < rows; ++r) {
      for (int c = 0; c < channels; ++c) {
        double d = v[r * channels + c] - mean[c];
        sq[c] += d * d;
      }
    }
  }
  for (int c = 0; c < channels; ++c) {
    double sd = std::sqrt(sq[c] / count);
    stats.mean[c] = static_cast<float>(mean[c]);
    stats.std[c] = sd < NormStats::kMinStd ? 1.0f : static_cast<float>(sd);
  }
  return stats;
}

void NormalizeRows(const NormStats& stats, float* values, int64_t rows) {
  const size_t channels = stats.mean.size();
  std::vector<float> inv(channels);
  for (size_t c = 0; c < channels; ++c) inv[c] = 1.0f / stats.std[c];
  for (int64_t r = 0; r < rows; ++r) {
    float* row = values + r * channels;
    for (size_t c = 0; c < channels; ++c) row[c] = (row[c] - stats.mean[c]) * inv[c];
  }
}

}  // namespace tripletstream
