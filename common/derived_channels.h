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
//   "vertical(gyro;acc,128)"       gyro's component along the vertical: the
//                                  direction of acc's mean over 128 rows
//                                  around each row (common/gravity_frame.h)
//   "horizontal(gyro;acc,128)"     gyro's magnitude across that vertical

// Whether triads are expressed in the gravity frame (--gravity_frame).
enum class GravityFrameMode {
  kOff,
  kAuto,  // When a triad carries gravity (or --gravity_triad names one).
  kOn,    // An error when none does.
};

struct DerivedChannelsConfig {
  // Add the magnitude of every triad found (--magnitudes).
  bool magnitudes = false;
  // Add the magnitude of these triad sums ("a+b", by triad prefix;
  // --magnitude_sums="userAcceleration+gravity").
  std::vector<std::string> sums;
  // Express every triad in the gravity frame: its vertical component and
  // its horizontal magnitude replace its axes (whatever --keep_axes says;
  // the frame is a change of coordinates).
  GravityFrameMode gravity_frame = GravityFrameMode::kOff;
  // The triad whose mean gives the vertical (--gravity_triad); empty: the
  // one ResolveGravityTriad picks from the data.
  std::string gravity_triad;
  // Rows averaged for the vertical (the server passes --window).
  int gravity_span = 128;
  // Keep the raw axes of the triads a magnitude is made of (--keep_axes);
  // other channels are always kept.
  bool keep_axes = true;

  bool enabled() const {
    return magnitudes || !sums.empty() || gravity_frame != GravityFrameMode::kOff;
  }
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
    std::vector<std::array<int, 3>> summed;  // the magnitude of the sum of these triads,
    // or, in the gravity frame, summed[0]'s component along (vertical) or
    // magnitude across (horizontal) the mean of `reference` over `span` rows.
    enum class Frame { kNone, kVertical, kHorizontal } frame = Frame::kNone;
    std::array<int, 3> reference = {-1, -1, -1};
    int span = 0;
  };
  std::vector<Output> outputs;
  std::vector<std::string> names() const;
};

// Settles the gravity frame against the data: with --gravity_frame and no
// --gravity_triad, picks the triad that carries gravity best
// (ScoreGravityTriads); under kAuto, turns the frame off when there is no
// triad or none scores kMinGravityScore. `summary` (may be null) says what
// was decided and why, for the startup log. INVALID_ARGUMENT under kOn, or
// when --gravity_triad names no triad.
absl::Status ResolveGravityTriad(const Dataset& dataset, DerivedChannelsConfig* config,
                                 std::string* summary);

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

// True for a derived channel's name ("|a|", "vertical(a;g,128)", ...).
bool IsDerivedChannelName(const std::string& name);

// True when every output is a raw channel in order (nothing to do).
bool IsIdentity(const ChannelPlan& plan, int raw_channels);

// Rows of `raw_channels` interleaved values (one whole series: the gravity
// frame averages over neighbouring rows) into rows of the plan's outputs.
std::vector<float> ApplyPlan(const ChannelPlan& plan, int raw_channels,
                             const std::vector<float>& raw);

// Applies `plan` to every series of `dataset` and renames its channels.
void ApplyPlan(const ChannelPlan& plan, Dataset* dataset);

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_COMMON_DERIVED_CHANNELS_H_
