#ifndef TRIPLETSTREAM_COMMON_GRAVITY_FRAME_H_
#define TRIPLETSTREAM_COMMON_GRAVITY_FRAME_H_

#include <array>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/dataset.h"

namespace tripletstream {

// The gravity frame: a device worn another way turns every sensor triad
// alike, but the direction of gravity turns with them. Expressed against
// the vertical (the direction gravity pulls, estimated as the mean of a
// gravity-bearing triad over a span of rows), a triad v becomes
//   vertical   = v · u               (u: unit vertical)
//   horizontal = |v - (v · u) u|
// and both stay the same however the device is turned; only the heading
// (where in the horizontal plane v points) is lost.

struct GravityScore {
  std::string prefix;
  double score = 0;  // See ScoreGravityTriads.
};

// How much of each triad is a steady pull: per series, the norm of the
// triad's mean vector over its RMS norm, averaged over series weighted by
// their rows. A total-acceleration or gravity triad scores near 1 (0.8-1
// while walking); rotation rate or gravity-free acceleration near 0.
// `triads` are channel-index triples of `dataset`.
std::vector<GravityScore> ScoreGravityTriads(const Dataset& dataset,
                                             const std::vector<std::string>& prefixes,
                                             const std::vector<std::array<int, 3>>& triads);

// A triad scoring at least this carries gravity.
inline constexpr double kMinGravityScore = 0.5;

// Per row of `values` (`channels` interleaved), the unit vertical: the
// mean of `reference` over the `span` rows centred on the row (fewer at the
// series' ends), normalized; zero where that mean is zero. 3 floats a row.
std::vector<float> VerticalDirections(const std::vector<float>& values, int channels,
                                      const std::array<int, 3>& reference, int span);

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_COMMON_GRAVITY_FRAME_H_
