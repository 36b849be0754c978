#ifndef TRIPLETSTREAM_SERVER_SAMPLING_CONFIG_H_
#define TRIPLETSTREAM_SERVER_SAMPLING_CONFIG_H_

#include <cstdint>

#include "common/wire.h"  // BatchesPerEpoch

namespace tripletstream {

enum class SamplingMode { kTriplet, kPk };

// What one training stream samples; part of the RNG key, so two requests
// with equal configs (and seed, epoch, dataset) get identical batches.
struct SamplingConfig {
  SamplingMode mode = SamplingMode::kTriplet;
  int batch_size = 64;  // Triplets per batch (kTriplet).
  int p = 16;           // Users per batch (kPk).
  int k = 4;            // Windows per user (kPk).
  bool positive_other_session = false;

  // Anchors per batch: B for triplets, P*K for P x K batches.
  int64_t anchors_per_batch() const {
    return mode == SamplingMode::kTriplet ? batch_size : int64_t{p} * k;
  }
};

// Server-wide training augmentations; all off by default.
struct AugmentConfig {
  float jitter_sigma = 0;  // Additive Gaussian noise (normalized units).
  float scale_sigma = 0;   // Per-window, per-channel factor ~ N(1, sigma).
  int max_shift = 0;       // Window start moved by up to +-max_shift samples.
  // A uniformly random 3-D rotation per window, the same for every sensor
  // triad of the window (acceleration and gyroscope turn together), applied
  // to the de-normalized values: the device held another way.
  bool rotate = false;
  // With `rotate`: the largest turn in degrees. 180 draws the rotation
  // uniformly; less turns about a uniformly random axis by an angle uniform
  // in [0, rotate_max_deg]: a device worn a little differently.
  float rotate_max_deg = 180;
  // Time warp: the window is read at a speed that changes linearly from s0
  // at its start to s1 at its end, each uniform in [1 - w, 1 + w] (w in
  // [0, 0.5]), and resampled to the window length by linear interpolation:
  // a gait that speeds up or slows down. 0 = off.
  float time_warp = 0;

  bool enabled() const {
    return jitter_sigma > 0 || scale_sigma > 0 || max_shift > 0 || rotate || time_warp > 0;
  }
};

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_SERVER_SAMPLING_CONFIG_H_
