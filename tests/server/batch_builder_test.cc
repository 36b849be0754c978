#include "server/batch_builder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <set>
#include <vector>

#include "common/digest.h"
#include "tests/testing/fixtures.h"

namespace tripletstream {
namespace {

class BatchBuilderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dataset_ = testing::SmallPreparedDataset();
    ASSERT_NE(dataset_, nullptr);
  }
  const SplitWindows& train() const { return dataset_->windows.split(SplitId::kTrain); }

  // Finds which training window (by position) has exactly these values.
  int64_t FindWindow(const float* values) const {
    const int64_t n = dataset_->window_floats();
    for (size_t i = 0; i < train().windows.size(); ++i) {
      if (std::memcmp(dataset_->WindowData(train().windows[i]), values,
                      n * sizeof(float)) == 0) {
        return static_cast<int64_t>(i);
      }
    }
    return -1;
  }

  std::shared_ptr<const PreparedDataset> dataset_;
};

SamplingConfig Triplets(int batch_size) {
  SamplingConfig config;
  config.mode = SamplingMode::kTriplet;
  config.batch_size = batch_size;
  return config;
}

TEST_F(BatchBuilderTest, TripletLabelsAnchorPositiveSameUserNegativeOther) {
  BatchBuilder builder(*dataset_, Triplets(16), AugmentConfig(), 7, 0);
  for (int64_t i = 0; i < builder.batches_per_epoch(); ++i) {
    v1::Batch batch;
    builder.Build(i, &batch);
    const int64_t b = batch.shape(1);
    ASSERT_EQ(batch.labels_size(), 3 * b);
    for (int64_t j = 0; j < b; ++j) {
      EXPECT_EQ(batch.labels(j), batch.labels(b + j));
      EXPECT_NE(batch.labels(j), batch.labels(2 * b + j));
    }
  }
}

TEST_F(BatchBuilderTest, PayloadIsTheLabelledUsersNormalizedWindows) {
  BatchBuilder builder(*dataset_, Triplets(8), AugmentConfig(), 7, 0);
  v1::Batch batch;
  builder.Build(2, &batch);
  const float* data = reinterpret_cast<const float*>(batch.data().data());
  const int64_t n = dataset_->window_floats();
  for (int item = 0; item < 3 * 8; ++item) {
    int64_t at = FindWindow(data + item * n);
    ASSERT_GE(at, 0) << "item " << item << " is not a training window";
    EXPECT_EQ(dataset_->data.series[train().windows[at].series].user, batch.labels(item));
  }
  EXPECT_EQ(batch.digest(), PayloadDigest(batch.data().data(), batch.data().size(),
                                          batch.labels().data(), batch.labels_size()));
}

TEST_F(BatchBuilderTest, EveryTrainingWindowIsAnAnchorOncePerEpoch) {
  BatchBuilder builder(*dataset_, Triplets(16), AugmentConfig(), 3, 5);
  const int64_t windows = static_cast<int64_t>(train().windows.size());
  EXPECT_EQ(builder.batches_per_epoch(), (windows + 15) / 16);
  std::multiset<int64_t> anchors;
  const int64_t n = dataset_->window_floats();
  for (int64_t i = 0; i < builder.batches_per_epoch(); ++i) {
    v1::Batch batch;
    builder.Build(i, &batch);
    const float* data = reinterpret_cast<const float*>(batch.data().data());
    for (int64_t j = 0; j < batch.shape(1); ++j) anchors.insert(FindWindow(data + j * n));
  }
  ASSERT_EQ(static_cast<int64_t>(anchors.size()), windows);
  for (int64_t w = 0; w < windows; ++w) EXPECT_EQ(anchors.count(w), 1u) << "window " << w;
}

TEST_F(BatchBuilderTest, PositivesFromAnotherSessionWhenAsked) {
  SamplingConfig config = Triplets(32);
  config.positive_other_session = true;
  BatchBuilder builder(*dataset_, config, AugmentConfig(), 11, 0);
  const int64_t n = dataset_->window_floats();
  for (int64_t i = 0; i < builder.batches_per_epoch(); ++i) {
    v1::Batch batch;
    builder.Build(i, &batch);
    const float* data = reinterpret_cast<const float*>(batch.data().data());
    const int64_t b = batch.shape(1);
    for (int64_t j = 0; j < b; ++j) {
      int64_t anchor = FindWindow(data + j * n);
      int64_t positive = FindWindow(data + (b + j) * n);
      ASSERT_GE(anchor, 0);
      ASSERT_GE(positive, 0);
      EXPECT_NE(train().windows[anchor].series, train().windows[positive].series);
    }
  }
}

TEST_F(BatchBuilderTest, SameKeySameBytesOtherKeyOtherBytes) {
  AugmentConfig augment;
  augment.jitter_sigma = 0.05f;
  augment.scale_sigma = 0.1f;
  augment.max_shift = 4;
  BatchBuilder a(*dataset_, Triplets(16), augment, 7, 1);
  BatchBuilder b(*dataset_, Triplets(16), augment, 7, 1);
  BatchBuilder other_seed(*dataset_, Triplets(16), augment, 8, 1);
  BatchBuilder other_epoch(*dataset_, Triplets(16), augment, 7, 2);
  v1::Batch x, y, z, w;
  a.Build(3, &x);
  b.Build(3, &y);
  other_seed.Build(3, &z);
  other_epoch.Build(3, &w);
  EXPECT_EQ(x.SerializeAsString(), y.SerializeAsString());
  EXPECT_NE(x.digest(), z.digest());
  EXPECT_NE(x.digest(), w.digest());
  // Reusing an output message gives the same bytes as a fresh one.
  a.Build(4, &x);
  a.Build(3, &x);
  EXPECT_EQ(x.SerializeAsString(), y.SerializeAsString());
}

TEST_F(BatchBuilderTest, AugmentationPerturbsTheAnchorWindowsSlightly) {
  AugmentConfig augment;
  augment.jitter_sigma = 0.05f;
  augment.scale_sigma = 0.1f;
  BatchBuilder plain(*dataset_, Triplets(16), AugmentConfig(), 7, 0);
  BatchBuilder augmented(*dataset_, Triplets(16), augment, 7, 0);
  v1::Batch p, q;
  plain.Build(0, &p);
  augmented.Build(0, &q);
  ASSERT_EQ(p.data().size(), q.data().size());
  EXPECT_NE(p.data(), q.data());
  const float* a = reinterpret_cast<const float*>(p.data().data());
  const float* b = reinterpret_cast<const float*>(q.data().data());
  // Anchors are the same windows (positives and negatives are drawn with a
  // key that includes the augmentation config, so they differ).
  double diff = 0;
  const size_t n = p.data().size() / 4 / 3;
  for (size_t i = 0; i < n; ++i) diff += std::abs(a[i] - b[i]);
  EXPECT_GT(diff / n, 0.01);
  EXPECT_LT(diff / n, 0.2);  // Small perturbations, not other windows.
  for (int j = 0; j < 16; ++j) EXPECT_EQ(p.labels(j), q.labels(j));
}

// Rotation turns each triad of a window as a whole: the de-normalized
// vectors keep their lengths and change direction.
TEST_F(BatchBuilderTest, RotationKeepsEachTriadsMagnitudeAndTurnsIt) {
  auto named = std::make_shared<PreparedDataset>(*dataset_);
  named->data.channel_names = {"acc.x", "acc.y", "acc.z"};
  AugmentConfig augment;
  augment.rotate = true;
  BatchBuilder plain(*named, Triplets(16), AugmentConfig(), 7, 0);
  BatchBuilder rotated(*named, Triplets(16), augment, 7, 0);
  v1::Batch p, q;
  plain.Build(0, &p);
  rotated.Build(0, &q);
  ASSERT_EQ(p.data().size(), q.data().size());
  const float* a = reinterpret_cast<const float*>(p.data().data());
  const float* b = reinterpret_cast<const float*>(q.data().data());
  const auto& mean = named->norm.mean;
  const auto& sd = named->norm.std;
  const int64_t rows = 16 * named->window_length();  // The anchors, same windows in both.
  double moved = 0;
  for (int64_t r = 0; r < rows; ++r) {
    double na = 0, nb = 0;
    for (int c = 0; c < 3; ++c) {
      const double va = a[r * 3 + c] * sd[c] + mean[c];
      const double vb = b[r * 3 + c] * sd[c] + mean[c];
      na += va * va;
      nb += vb * vb;
      moved += std::abs(va - vb);
    }
    ASSERT_NEAR(std::sqrt(na), std::sqrt(nb), 1e-3 * (1 + std::sqrt(na))) << "row " << r;
  }
  EXPECT_GT(moved / rows, 0.01);
  for (int j = 0; j < 16; ++j) EXPECT_EQ(p.labels(j), q.labels(j));
  // Deterministic: the same key gives the same rotation.
  v1::Batch again;
  rotated.Build(0, &again);
  EXPECT_EQ(again.data(), q.data());
}

// --rotate_max_deg bounds the turn: no vector moves by more than the angle,
// and the turn is a rotation (lengths kept).
TEST_F(BatchBuilderTest, BoundedRotationTurnsByNoMoreThanTheAngle) {
  auto named = std::make_shared<PreparedDataset>(*dataset_);
  named->data.channel_names = {"acc.x", "acc.y", "acc.z"};
  AugmentConfig augment;
  augment.rotate = true;
  augment.rotate_max_deg = 20;
  BatchBuilder plain(*named, Triplets(16), AugmentConfig(), 7, 0);
  BatchBuilder rotated(*named, Triplets(16), augment, 7, 0);
  v1::Batch p, q;
  plain.Build(0, &p);
  rotated.Build(0, &q);
  const float* a = reinterpret_cast<const float*>(p.data().data());
  const float* b = reinterpret_cast<const float*>(q.data().data());
  const auto& mean = named->norm.mean;
  const auto& sd = named->norm.std;
  const int64_t rows = 16 * named->window_length();
  double largest = 0;
  for (int64_t r = 0; r < rows; ++r) {
    double va[3], vb[3], na = 0, nb = 0, dot = 0;
    for (int c = 0; c < 3; ++c) {
      va[c] = a[r * 3 + c] * sd[c] + mean[c];
      vb[c] = b[r * 3 + c] * sd[c] + mean[c];
      na += va[c] * va[c];
      nb += vb[c] * vb[c];
      dot += va[c] * vb[c];
    }
    if (na < 1e-2) continue;
    ASSERT_NEAR(std::sqrt(na), std::sqrt(nb), 1e-3 * (1 + std::sqrt(na))) << "row " << r;
    const double degrees =
        std::acos(std::clamp(dot / std::sqrt(na * nb), -1.0, 1.0)) * 180 / M_PI;
    largest = std::max(largest, degrees);
  }
  EXPECT_LE(largest, 20.5);
  EXPECT_GT(largest, 2.0);
}

// Time warp reads a window at a speed drifting between two rates in
// [1 - w, 1 + w]: on series whose value is the row number, a warped window
// is increasing with steps inside that range, stays inside its series, and
// is the same for the same key.
TEST_F(BatchBuilderTest, TimeWarpResamplesAtASpeedWithinTheRange) {
  auto ramp = std::make_shared<PreparedDataset>(*dataset_);
  const int channels = ramp->channels();
  for (Series& series : ramp->data.series) {
    const int64_t rows = series.rows(channels);
    for (int64_t r = 0; r < rows; ++r) {
      for (int c = 0; c < channels; ++c) series.values[r * channels + c] = static_cast<float>(r);
    }
  }
  AugmentConfig augment;
  augment.time_warp = 0.2f;
  BatchBuilder plain(*ramp, Triplets(16), AugmentConfig(), 7, 0);
  BatchBuilder warped(*ramp, Triplets(16), augment, 7, 0);
  v1::Batch p, q;
  plain.Build(0, &p);
  warped.Build(0, &q);
  const float* a = reinterpret_cast<const float*>(p.data().data());
  const float* b = reinterpret_cast<const float*>(q.data().data());
  const int length = ramp->window_length();
  int speed_changed = 0;
  for (int j = 0; j < 16; ++j) {  // Anchors: the same windows in both batches.
    const float* plain_window = a + static_cast<int64_t>(j) * length * channels;
    const float* window = b + static_cast<int64_t>(j) * length * channels;
    EXPECT_FLOAT_EQ(plain_window[channels] - plain_window[0], 1.0f);
    double first_step = 0, last_step = 0;
    for (int t = 0; t + 1 < length; ++t) {
      const double step = window[(t + 1) * channels] - window[t * channels];
      ASSERT_GE(step, 0.8 - 1e-3) << "anchor " << j << " t " << t;
      ASSERT_LE(step, 1.2 + 1e-3) << "anchor " << j << " t " << t;
      if (t == 0) first_step = step;
      last_step = step;
    }
    ASSERT_GE(window[0], 0.0f);
    if (std::abs(first_step - last_step) > 0.01) ++speed_changed;
    // Every channel of a row is read at the same time.
    for (int c = 1; c < channels; ++c) EXPECT_EQ(window[c], window[0]);
  }
  EXPECT_GT(speed_changed, 8);
  v1::Batch again;
  warped.Build(0, &again);
  EXPECT_EQ(again.data(), q.data());
}

TEST_F(BatchBuilderTest, PkBatchHasPDistinctUsersWithKWindowsEach) {
  SamplingConfig config;
  config.mode = SamplingMode::kPk;
  config.p = 4;
  config.k = 3;
  BatchBuilder builder(*dataset_, config, AugmentConfig(), 9, 0);
  EXPECT_EQ(builder.batches_per_epoch(),
            static_cast<int64_t>((train().windows.size() + 11) / 12));
  v1::Batch batch;
  builder.Build(1, &batch);
  ASSERT_EQ(batch.shape_size(), 3);
  EXPECT_EQ(batch.shape(0), 12);
  std::set<int32_t> users;
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 3; ++j) EXPECT_EQ(batch.labels(i * 3 + j), batch.labels(i * 3));
    users.insert(batch.labels(i * 3));
  }
  EXPECT_EQ(users.size(), 4u);
  for (int32_t u : users) {
    EXPECT_EQ(dataset_->splits.user_split[u], SplitId::kTrain);
  }
}

TEST_F(BatchBuilderTest, LastBatchOfTheEpochIsSmaller) {
  BatchBuilder builder(*dataset_, Triplets(64), AugmentConfig(), 1, 0);
  const int64_t windows = static_cast<int64_t>(train().windows.size());
  v1::Batch last;
  builder.Build(builder.batches_per_epoch() - 1, &last);
  EXPECT_EQ(last.shape(1), windows - 64 * (builder.batches_per_epoch() - 1));
  EXPECT_EQ(last.data().size(), static_cast<size_t>(3 * last.shape(1) *
                                                    dataset_->window_floats() * 4));
}

}  // namespace
}  // namespace tripletstream
