#include "server/batch_builder.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#include "common/derived_channels.h"
#include "common/digest.h"

namespace tripletstream {
namespace {

// 256 KiB: stays in L2 cache; windows take slices at random offsets. Grown
// to 4 windows for very long windows.
constexpr int64_t kMinNoiseTableSize = 1 << 16;
constexpr uint64_t kPermutationTag = 0x7065726d;  // "perm"
constexpr uint64_t kNoiseTag = 0x6e6f697365;      // "noise"
constexpr uint64_t kRotateTag = 0x726f74;         // "rot"
constexpr uint64_t kWarpTag = 0x77617270;         // "warp"

uint64_t ConfigKey(const SamplingConfig& s, const AugmentConfig& a) {
  uint32_t jitter, scale;
  std::memcpy(&jitter, &a.jitter_sigma, 4);
  std::memcpy(&scale, &a.scale_sigma, 4);
  const uint64_t key =
      MakeKey({static_cast<uint64_t>(s.mode), static_cast<uint64_t>(s.batch_size),
               static_cast<uint64_t>(s.p), static_cast<uint64_t>(s.k),
               static_cast<uint64_t>(s.positive_other_session), jitter, scale,
               static_cast<uint64_t>(a.max_shift)});
  // Streams without rotation or warp keep the keys they always had.
  uint64_t extended = a.rotate ? MakeKey({key, kRotateTag}) : key;
  if (a.rotate && a.rotate_max_deg < 180) {
    uint32_t degrees;
    std::memcpy(&degrees, &a.rotate_max_deg, 4);
    extended = MakeKey({extended, degrees});
  }
  if (a.time_warp > 0) {
    uint32_t warp;
    std::memcpy(&warp, &a.time_warp, 4);
    extended = MakeKey({extended, kWarpTag, warp});
  }
  return extended;
}

}  // namespace

BatchBuilder::BatchBuilder(const PreparedDataset& dataset,
                           const SamplingConfig& sampling,
                           const AugmentConfig& augment, uint64_t seed,
                           int64_t epoch)
    : dataset_(dataset),
      train_(dataset.windows.split(SplitId::kTrain)),
      sampling_(sampling),
      augment_(augment),
      seed_(seed),
      epoch_(epoch),
      stream_key_(MakeKey({seed, static_cast<uint64_t>(epoch), dataset.fingerprint,
                           ConfigKey(sampling, augment)})),
      batches_per_epoch_(BatchesPerEpoch(static_cast<int64_t>(train_.windows.size()),
                                         sampling.anchors_per_batch())),
      anchor_order_(train_.windows.size(),
                    MakeKey({seed, static_cast<uint64_t>(epoch), dataset.fingerprint,
                             kPermutationTag})) {
  if (augment_.rotate) {
    for (const Triad& t : FindTriads(dataset.data.channel_names)) {
      triads_.push_back({t.axes[0], t.axes[1], t.axes[2]});
    }
  }
  if (augment_.jitter_sigma > 0) {
    // The table depends only on the seed, so it is the same on every server.
    noise_table_.resize(std::max<int64_t>(kMinNoiseTableSize, 4 * dataset.window_floats()));
    CounterRng rng(MakeKey({seed, dataset.fingerprint, kNoiseTag}));
    for (float& v : noise_table_) v = static_cast<float>(rng.Normal());
  }
}

uint64_t BatchBuilder::ItemKey(int64_t item) const {
  return MakeKey({stream_key_, static_cast<uint64_t>(item)});
}

BatchBuilder::Layout BatchBuilder::LayoutOf(int64_t index) const {
  Layout layout;
  const int64_t window_floats = dataset_.window_floats();
  if (sampling_.mode == SamplingMode::kTriplet) {
    const int64_t total = static_cast<int64_t>(train_.windows.size());
    const int64_t count =
        std::min<int64_t>(sampling_.batch_size, total - index * sampling_.batch_size);
    layout.mode = v1::SAMPLING_MODE_TRIPLET;
    layout.shape = {3, count, dataset_.window_length(), dataset_.channels()};
    layout.labels = 3 * count;
  } else {
    const int64_t pk = int64_t{sampling_.p} * sampling_.k;
    layout.mode = v1::SAMPLING_MODE_PK;
    layout.shape = {pk, dataset_.window_length(), dataset_.channels()};
    layout.labels = pk;
  }
  layout.floats = layout.labels * window_floats;
  return layout;
}

uint64_t BatchBuilder::Fill(int64_t index, float* data, int32_t* labels) const {
  return sampling_.mode == SamplingMode::kTriplet ? FillTriplets(index, data, labels)
                                                  : FillPk(index, data, labels);
}

void BatchBuilder::Build(int64_t index, v1::Batch* out) const {
  const Layout layout = LayoutOf(index);
  out->set_epoch(epoch_);
  out->set_index(index);
  out->set_batches_per_epoch(batches_per_epoch_);
  out->set_mode(layout.mode);
  out->clear_shape();
  for (int64_t d : layout.shape) out->add_shape(d);
  out->set_dtype(v1::DTYPE_FLOAT32);
  std::string* data = out->mutable_data();
  data->resize(layout.floats * sizeof(float));
  out->mutable_labels()->Resize(static_cast<int>(layout.labels), 0);
  out->set_digest(Fill(index, reinterpret_cast<float*>(data->data()),
                       out->mutable_labels()->mutable_data()));
}

BatchBuilder::Pick BatchBuilder::RandomOfUserSlot(int32_t user_slot,
                                                  CounterRng& rng) const {
  const Range& range = train_.user_ranges[user_slot];
  int64_t at = range.begin + static_cast<int64_t>(rng.Below(range.size()));
  return {train_.windows[at], train_.users[user_slot]};
}

BatchBuilder::Pick BatchBuilder::PositiveFor(int64_t anchor, CounterRng& rng) const {
  const int32_t user_slot = train_.window_user_slot[anchor];
  const Range& user = train_.user_ranges[user_slot];
  const int32_t user_id = train_.users[user_slot];
  if (sampling_.positive_other_session) {
    // Any window of the user outside the anchor's series, when one exists.
    const Range& own = train_.series_ranges[train_.window_series_slot[anchor]];
    const int64_t others = user.size() - own.size();
    if (others > 0) {
      int64_t at = user.begin + static_cast<int64_t>(rng.Below(others));
      if (at >= own.begin) at += own.size();
      return {train_.windows[at], user_id};
    }
  }
  // Any other window of the user; the anchor itself only if it is alone.
  if (user.size() <= 1) return {train_.windows[anchor], user_id};
  int64_t at = user.begin + static_cast<int64_t>(rng.Below(user.size() - 1));
  if (at >= anchor) ++at;
  return {train_.windows[at], user_id};
}

BatchBuilder::Pick BatchBuilder::NegativeFor(int32_t anchor_user_slot,
                                             CounterRng& rng) const {
  // Users are drawn uniformly (not windows), so prolific users do not
  // dominate the negatives. There are at least two training users.
  const int64_t num_users = static_cast<int64_t>(train_.users.size());
  int32_t slot = static_cast<int32_t>(rng.Below(num_users - 1));
  if (slot >= anchor_user_slot) ++slot;
  return RandomOfUserSlot(slot, rng);
}

void BatchBuilder::WriteWindow(const WindowRef& window, CounterRng& rng,
                               float* dst) const {
  const int channels = dataset_.channels();
  const int length = dataset_.window_length();
  WindowRef w = window;
  if (augment_.max_shift > 0) {
    // Time shift: move the start within the session, never past its ends.
    const int64_t rows = dataset_.data.series[w.series].rows(channels);
    const int64_t span = 2 * int64_t{augment_.max_shift} + 1;
    int64_t offset = w.offset + static_cast<int64_t>(rng.Below(span)) - augment_.max_shift;
    offset = std::clamp<int64_t>(offset, 0, rows - length);
    w.offset = static_cast<int32_t>(offset);
  }
  const int64_t n = int64_t{length} * channels;
  const float* src = dataset_.WindowData(w);
  // A warped window is resampled into a per-thread buffer first.
  thread_local std::vector<float> warped;
  if (augment_.time_warp > 0) {
    warped.resize(n);
    WarpWindow(w, rng, warped.data());
    src = warped.data();
  }
  if (!augment_.enabled() || (augment_.jitter_sigma <= 0 && augment_.scale_sigma <= 0)) {
    std::memcpy(dst, src, n * sizeof(float));
    if (!triads_.empty()) Rotate(rng, dst);
    return;
  }
  absl::InlinedVector<float, 32> scale(channels, 1.0f);
  if (augment_.scale_sigma > 0) {
    for (float& s : scale) {
      s = static_cast<float>(1.0 + augment_.scale_sigma * rng.FastNormal());
    }
  }
  const float sigma = augment_.jitter_sigma;
  const float* noise = nullptr;
  if (sigma > 0) {
    noise = noise_table_.data() + rng.Below(noise_table_.size() - n);
  }
  // Two simple passes the compiler vectorizes: scale, then add noise.
  float* __restrict out = dst;
  const float* __restrict in = src;
  const float* __restrict factor = scale.data();
  for (int t = 0; t < length; ++t) {
    for (int c = 0; c < channels; ++c) {
      out[t * channels + c] = in[t * channels + c] * factor[c];
    }
  }
  if (noise != nullptr) {
    const float* __restrict jitter = noise;
    for (int64_t i = 0; i < n; ++i) out[i] += sigma * jitter[i];
  }
  if (!triads_.empty()) Rotate(rng, dst);
}

void BatchBuilder::WarpWindow(const WindowRef& w, CounterRng& rng, float* dst) const {
  const int channels = dataset_.channels();
  const int length = dataset_.window_length();
  const int64_t rows = dataset_.data.series[w.series].rows(channels);
  const double warp = augment_.time_warp;
  double s0 = 1.0 + warp * (2.0 * rng.Uniform() - 1.0);
  double s1 = 1.0 + warp * (2.0 * rng.Uniform() - 1.0);
  // Source position of output sample t (u = t / (length - 1)):
  //   p(u) = (length - 1) * (s0 * u + (s1 - s0) * u^2 / 2),
  // spanning (length - 1) * (s0 + s1) / 2 source samples.
  double span = (length - 1) * (s0 + s1) / 2;
  const double room = static_cast<double>(rows - 1);  // rows >= length.
  if (span > room) {  // Too fast for the series: slow down to fit.
    const double fit = room / span;
    s0 *= fit;
    s1 *= fit;
    span = room;
  }
  // Centered on the window's own span, kept inside the series.
  double start = w.offset + (length - 1 - span) / 2;
  start = std::clamp(start, 0.0, room - span);
  const float* series = dataset_.data.series[w.series].data();
  const double last = length > 1 ? length - 1 : 1;
  for (int t = 0; t < length; ++t) {
    const double u = t / last;
    double at = start + (length - 1) * (s0 * u + (s1 - s0) * u * u / 2);
    at = std::clamp(at, 0.0, room);
    const int64_t i = std::min<int64_t>(static_cast<int64_t>(at), rows - 2 < 0 ? 0 : rows - 2);
    const float frac = rows > 1 ? static_cast<float>(at - i) : 0.0f;
    const float* a = series + i * channels;
    const float* b = rows > 1 ? a + channels : a;
    float* out = dst + static_cast<int64_t>(t) * channels;
    for (int c = 0; c < channels; ++c) out[c] = a[c] + frac * (b[c] - a[c]);
  }
}

void BatchBuilder::Rotate(CounterRng& rng, float* window) const {
  // A uniform rotation: the unit quaternion of four standard normals.
  double q[4], norm = 0;
  for (double& v : q) {
    v = rng.Normal();
    norm += v * v;
  }
  norm = std::sqrt(std::max(norm, 1e-300));
  double w = q[0] / norm, x = q[1] / norm, y = q[2] / norm, z = q[3] / norm;
  if (augment_.rotate_max_deg < 180) {
    // A turn by an angle uniform in [0, max] about the axis (q[1], q[2], q[3]).
    const double axis = std::sqrt(std::max(x * x + y * y + z * z, 1e-300));
    const double half = 0.5 * (augment_.rotate_max_deg * M_PI / 180.0) * rng.Uniform();
    const double s = std::sin(half) / axis;
    w = std::cos(half);
    x *= s;
    y *= s;
    z *= s;
  }
  const double r[3][3] = {{1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)},
                          {2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)},
                          {2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)}};
  const int channels = dataset_.channels();
  const std::vector<float>& mean = dataset_.norm.mean;
  const std::vector<float>& std_dev = dataset_.norm.std;
  // On normalized values n (v = s * n + m per axis), turning v is affine:
  //   n' = (R (s * n + m) - m) / s = A n + b,  A = S^-1 R S,  b = S^-1 (R m - m).
  struct Affine {
    std::array<int, 3> axes;
    float a[3][3];
    float b[3];
  };
  absl::InlinedVector<Affine, 4> turns;
  for (const auto& axes : triads_) {
    Affine t;
    t.axes = axes;
    for (int i = 0; i < 3; ++i) {
      double rm = 0;
      for (int j = 0; j < 3; ++j) {
        t.a[i][j] = static_cast<float>(r[i][j] * std_dev[axes[j]] / std_dev[axes[i]]);
        rm += r[i][j] * mean[axes[j]];
      }
      t.b[i] = static_cast<float>((rm - mean[axes[i]]) / std_dev[axes[i]]);
    }
    turns.push_back(t);
  }
  for (int t = 0; t < dataset_.window_length(); ++t) {
    float* row = window + static_cast<int64_t>(t) * channels;
    for (const Affine& turn : turns) {
      const float v[3] = {row[turn.axes[0]], row[turn.axes[1]], row[turn.axes[2]]};
      for (int i = 0; i < 3; ++i) {
        row[turn.axes[i]] =
            turn.a[i][0] * v[0] + turn.a[i][1] * v[1] + turn.a[i][2] * v[2] + turn.b[i];
      }
    }
  }
}

uint64_t BatchBuilder::FillTriplets(int64_t index, float* data, int32_t* labels) const {
  const int64_t total = static_cast<int64_t>(train_.windows.size());
  const int64_t first = index * sampling_.batch_size;
  const int64_t count = std::min<int64_t>(sampling_.batch_size, total - first);
  const int64_t window_floats = dataset_.window_floats();
  const size_t window_bytes = static_cast<size_t>(window_floats) * sizeof(float);
  thread_local PayloadHasher hasher;
  hasher.Reset();
  // Payload order is all anchors, then all positives, then all negatives
  // (picks[b * count + j] for block b). Item j draws from its own generator
  // in a fixed order (positive pick, negative pick, then the anchor,
  // positive and negative windows), so the picks come first and each
  // generator is kept between the blocks.
  thread_local std::vector<CounterRng> rngs;
  thread_local std::vector<Pick> picks;
  rngs.clear();
  picks.resize(static_cast<size_t>(3 * count));
  for (int64_t j = 0; j < count; ++j) {
    const int64_t item = first + j;
    const int64_t anchor = static_cast<int64_t>(anchor_order_(item));
    CounterRng& rng = rngs.emplace_back(ItemKey(item));
    const int32_t user_slot = train_.window_user_slot[anchor];
    picks[j] = {train_.windows[anchor], train_.users[user_slot]};
    picks[count + j] = PositiveFor(anchor, rng);
    picks[2 * count + j] = NegativeFor(user_slot, rng);
  }
  float* out = data;
  for (int64_t at = 0; at < 3 * count; ++at) {
    WriteWindow(picks[at].window, rngs[at % count], out);
    hasher.Update(out, window_bytes);
    out += window_floats;
    labels[at] = picks[at].user;
  }
  return hasher.Finish(labels, static_cast<size_t>(3 * count));
}

uint64_t BatchBuilder::FillPk(int64_t index, float* data, int32_t* labels) const {
  const int p = sampling_.p;
  const int k = sampling_.k;
  const int64_t window_floats = dataset_.window_floats();
  const size_t window_bytes = static_cast<size_t>(window_floats) * sizeof(float);
  thread_local PayloadHasher hasher;
  hasher.Reset();

  // P distinct users by a partial Fisher-Yates shuffle of the user slots.
  CounterRng rng(ItemKey(index));
  const int num_users = static_cast<int>(train_.users.size());
  std::vector<int32_t> slots(num_users);
  for (int i = 0; i < num_users; ++i) slots[i] = i;
  for (int i = 0; i < p; ++i) {
    int j = i + static_cast<int>(rng.Below(num_users - i));
    std::swap(slots[i], slots[j]);
  }
  for (int i = 0; i < p; ++i) {
    for (int j = 0; j < k; ++j) {
      Pick pick = RandomOfUserSlot(slots[i], rng);
      const int64_t at = int64_t{i} * k + j;
      float* out = data + at * window_floats;
      WriteWindow(pick.window, rng, out);
      hasher.Update(out, window_bytes);
      labels[at] = pick.user;
    }
  }
  return hasher.Finish(labels, static_cast<size_t>(p) * k);
}

}  // namespace tripletstream
