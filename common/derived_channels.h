#ifndef TRIPLETSTREAM_COMMON_DERIVED_CHANNELS_H_
#define TRIPLETSTREAM_COMMON_DERIVED_CHANNELS_H_

#include <array>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/dataset.h"

namespace tripletstream {

// Orientation-invariant input channels: the magnitude of a sensor triad
// (|v| = sqrt(x² + y² + z²)) does not change when the device turns in the
// pocket or on the wrist. Triads are found by name: three channels that
// share a prefix and end in x, y and z after '.' or '_' (any case), e.g.
// rotationRate.x/.y/.z, acc_X/acc_Y/acc_Z.
//
// A derived channel is named for what it computes, so a checkpoint's channel
// list is enough to compute it again from raw CSV columns:
//   "|rotationRate|"               magnitude of one triad
//   "|userAcceleration+gravity|"   magnitude of the element-wise sum of two
//                                  (total acceleration from its two parts)
struct DerivedChannelsConfig {
  // Add the magnitude of every triad found (--magnitudes).
  bool magnitudes = false;
  // Add the magnitude of these triad sums ("a+b", by triad prefix;
  // --magnitude_sums="userAcceleration+gravity").
  std::vector<std::string> sums;
  // Keep the raw axes of the triads a magnitude is made of (--keep_axes);
  // other channels are always kept.
  bool keep_axes = true;

  bool enabled() const { return magnitudes || !sums.empty(); }
};

struct Triad {
  std::string prefix;  // "rotationRate"
  int axes[3];         // Channel indices of x, y, z.
};

// The triads among `channel_names`, in order of their x channel.
std::vector<Triad> FindTriads(const std::vector<std::string>& channel_names);

// How each output channel is made from the raw channels.
struct ChannelPlan {
  struct Output {
    std::string name;
    int raw = -1;                       // A raw channel copied as is, or
    std::vector<std::array<int, 3>> summed;  // the magnitude of the sum of these triads.
  };
  std::vector<Output> outputs;
  std::vector<std::string> names() const;
};

// The plan for `config` over the raw `channel_names`. INVALID_ARGUMENT when
// a sum names a triad that is not there (listing the triads found), or when
// nothing would be derived although asked for.
absl::StatusOr<ChannelPlan> PlanDerivedChannels(const std::vector<std::string>& channel_names,
                                                const DerivedChannelsConfig& config);

// The plan that computes `output_names` (a checkpoint's channels, raw or
// derived) from a CSV's raw `channel_names`. NOT_FOUND naming a channel or
// triad the CSV lacks.
absl::StatusOr<ChannelPlan> PlanFromNames(const std::vector<std::string>& output_names,
                                          const std::vector<std::string>& channel_names);

// True when every output is a raw channel in order (nothing to do).
bool IsIdentity(const ChannelPlan& plan, int raw_channels);

// Rows of `raw_channels` interleaved values into rows of the plan's outputs.
std::vector<float> ApplyPlan(const ChannelPlan& plan, int raw_channels,
                             const std::vector<float>& raw);

// Applies `plan` to every series of `dataset` and renames its channels.
void ApplyPlan(const ChannelPlan& plan, Dataset* dataset);

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_COMMON_DERIVED_CHANNELS_H_
