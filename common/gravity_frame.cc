#include "common/gravity_frame.h"

#include <algorithm>
#include <cmath>

namespace tripletstream {

std::vector<GravityScore> ScoreGravityTriads(const Dataset& dataset,
                                             const std::vector<std::string>& prefixes,
                                             const std::vector<std::array<int, 3>>& triads) {
  const int channels = dataset.channels();
  std::vector<GravityScore> scores;
  for (size_t t = 0; t < triads.size(); ++t) {
    const std::array<int, 3>& axes = triads[t];
    double weighted = 0, rows_seen = 0;
    for (const Series& series : dataset.series) {
      const int64_t rows = series.rows(channels);
      if (rows == 0) continue;
      double mean[3] = {0, 0, 0}, square = 0;
      for (int64_t r = 0; r < rows; ++r) {
        const float* row = series.data() + r * channels;
        for (int a = 0; a < 3; ++a) {
          const double v = row[axes[a]];
          mean[a] += v;
          square += v * v;
        }
      }
      for (double& m : mean) m /= static_cast<double>(rows);
      const double rms = std::sqrt(square / static_cast<double>(rows));
      const double steady = std::sqrt(mean[0] * mean[0] + mean[1] * mean[1] + mean[2] * mean[2]);
      if (rms > 0) weighted += static_cast<double>(rows) * steady / rms;
      rows_seen += static_cast<double>(rows);
    }
    scores.push_back({prefixes[t], rows_seen > 0 ? weighted / rows_seen : 0.0});
  }
  return scores;
}

std::vector<float> VerticalDirections(const std::vector<float>& values, int channels,
                                      const std::array<int, 3>& reference, int span) {
  const int64_t rows = channels > 0 ? static_cast<int64_t>(values.size()) / channels : 0;
  span = std::max(span, 1);
  // Running sums (double) of the reference axes: sums[r] covers rows [0, r).
  std::vector<double> sums(static_cast<size_t>(3 * (rows + 1)), 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    for (int a = 0; a < 3; ++a) {
      sums[3 * (r + 1) + a] = sums[3 * r + a] + values[r * channels + reference[a]];
    }
  }
  std::vector<float> up(static_cast<size_t>(3 * rows), 0.0f);
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t lo = std::clamp<int64_t>(r - span / 2, 0, rows);
    const int64_t hi = std::clamp<int64_t>(r - span / 2 + span, 0, rows);
    double v[3], norm = 0;
    for (int a = 0; a < 3; ++a) {
      v[a] = sums[3 * hi + a] - sums[3 * lo + a];
      norm += v[a] * v[a];
    }
    norm = std::sqrt(norm);
    if (norm <= 0) continue;
    for (int a = 0; a < 3; ++a) up[3 * r + a] = static_cast<float>(v[a] / norm);
  }
  return up;
}

}  // namespace tripletstream
