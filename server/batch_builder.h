#ifndef TRIPLETSTREAM_SERVER_BATCH_BUILDER_H_
#define TRIPLETSTREAM_SERVER_BATCH_BUILDER_H_

#include <array>
#include <cstdint>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "common/counter_rng.h"
#include "common/prepared_dataset.h"
#include "server/sampling_config.h"
#include "tripletstream/v1/tripletstream.pb.h"

namespace tripletstream {

// Builds training batch `index` of `epoch` into a reusable proto. The
// content is a pure function of (seed, epoch, index, dataset fingerprint,
// sampling config, augment config): anchors come from a keyed permutation of
// the training windows and every random choice from a CounterRng keyed by
// those values, so any thread or server builds the same bytes.
//
// Thread-safe: Build is const and may run concurrently on distinct outputs.
class BatchBuilder {
 public:
  BatchBuilder(const PreparedDataset& dataset, const SamplingConfig& sampling,
               const AugmentConfig& augment, uint64_t seed, int64_t epoch);

  int64_t batches_per_epoch() const { return batches_per_epoch_; }
  int64_t epoch() const { return epoch_; }

  // The shape of batch `index` and how much it holds.
  struct Layout {
    v1::SamplingMode mode = v1::SAMPLING_MODE_UNSPECIFIED;
    absl::InlinedVector<int64_t, 4> shape;
    int64_t floats = 0;  // Payload values.
    int64_t labels = 0;  // Label values.
  };
  Layout LayoutOf(int64_t index) const;

  // Writes the payload of batch `index` (layout.floats values, in payload
  // order) to `data` and its labels to `labels`, and returns its digest
  // (PayloadDigest), hashed window by window while each is in L1 cache.
  uint64_t Fill(int64_t index, float* data, int32_t* labels) const;

  // The whole message: Layout, Fill and the header fields.
  void Build(int64_t index, v1::Batch* out) const;

 private:
  struct Pick {
    WindowRef window;
    int32_t user;
  };
  uint64_t FillTriplets(int64_t index, float* data, int32_t* labels) const;
  uint64_t FillPk(int64_t index, float* data, int32_t* labels) const;
  Pick PositiveFor(int64_t anchor, CounterRng& rng) const;
  Pick NegativeFor(int32_t anchor_user_slot, CounterRng& rng) const;
  Pick RandomOfUserSlot(int32_t user_slot, CounterRng& rng) const;
  // Copies (and augments) one window into dst.
  void WriteWindow(const WindowRef& window, CounterRng& rng, float* dst) const;
  // Reads the window starting at `w` at a varying speed (time_warp) into
  // dst, resampled to the window length.
  void WarpWindow(const WindowRef& w, CounterRng& rng, float* dst) const;
  // Turns every triad of a written window by one random rotation.
  void Rotate(CounterRng& rng, float* window) const;
  uint64_t ItemKey(int64_t item) const;

  const PreparedDataset& dataset_;
  const SplitWindows& train_;
  SamplingConfig sampling_;
  AugmentConfig augment_;
  uint64_t seed_;
  int64_t epoch_;
  uint64_t stream_key_;
  int64_t batches_per_epoch_;
  IndexPermutation anchor_order_;
  // Pre-drawn N(0,1) values; a window's jitter is a randomly placed slice.
  std::vector<float> noise_table_;
  // Sensor triads (x, y, z channels) rotated together by augment_.rotate.
  std::vector<std::array<int, 3>> triads_;
};

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_SERVER_BATCH_BUILDER_H_
