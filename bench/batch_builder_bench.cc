// Micro-benchmark of one producer thread: BatchBuilder::Build on a synthetic
// dataset shaped like MotionSense (24 users x 15 sessions, 12 channels,
// window 128 stride 64). Reports triplets/s and payload bytes/s.
#include <benchmark/benchmark.h>

#include <string>

#include "common/digest.h"
#include "server/batch_builder.h"
#include "tests/testing/synthetic_data.h"

namespace tripletstream {
namespace {

const PreparedDataset& Dataset() {
  static const PreparedDataset* dataset = [] {
    testing::SyntheticSpec spec;
    spec.users = 24;
    spec.sessions_per_user = 15;
    spec.rows_per_session = 4000;
    spec.channels = 12;
    PreprocessConfig config;
    config.window_length = 128;
    config.window_stride = 64;
    return PrepareDataset(testing::MakeSyntheticDataset(spec), config)->release();
  }();
  return *dataset;
}

// The same values with the 12 channels named as 4 sensor triads, so that
// rotation has axes to turn.
const PreparedDataset& TriadDataset() {
  static const PreparedDataset* dataset = [] {
    auto* named = new PreparedDataset(Dataset());
    named->data.channel_names.clear();
    for (const char* sensor : {"acc", "gyro", "mag", "grav"}) {
      for (const char* axis : {".x", ".y", ".z"}) {
        named->data.channel_names.push_back(std::string(sensor) + axis);
      }
    }
    return named;
  }();
  return *dataset;
}

enum class Augment { kNone, kJitterScaleShift, kRotate };

void BuildTriplets(benchmark::State& state, Augment augment) {
  SamplingConfig sampling;
  sampling.batch_size = static_cast<int>(state.range(0));
  AugmentConfig aug;
  if (augment != Augment::kNone) {
    aug.jitter_sigma = 0.03f;
    aug.scale_sigma = 0.1f;
    aug.max_shift = 8;
  }
  aug.rotate = augment == Augment::kRotate;
  aug.rotate_max_deg = 30;
  BatchBuilder builder(augment == Augment::kRotate ? TriadDataset() : Dataset(), sampling, aug,
                       1, 0);
  v1::Batch batch;
  int64_t index = 0;
  for (auto _ : state) {
    builder.Build(index, &batch);
    index = (index + 1) % (builder.batches_per_epoch() - 1);
    benchmark::DoNotOptimize(batch.digest());
  }
  state.SetItemsProcessed(state.iterations() * sampling.batch_size);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(batch.data().size()));
}

void BM_BuildTriplets(benchmark::State& state) { BuildTriplets(state, Augment::kNone); }
void BM_BuildTripletsAugmented(benchmark::State& state) {
  BuildTriplets(state, Augment::kJitterScaleShift);
}
// Jitter, scale and shift plus a turn of up to 30 degrees of all 4 triads.
void BM_BuildTripletsRotated(benchmark::State& state) { BuildTriplets(state, Augment::kRotate); }
BENCHMARK(BM_BuildTriplets)->Arg(64);
BENCHMARK(BM_BuildTripletsAugmented)->Arg(64);
BENCHMARK(BM_BuildTripletsRotated)->Arg(64);

void BM_Digest(benchmark::State& state) {
  std::vector<char> data(state.range(0), 3);
  for (auto _ : state) benchmark::DoNotOptimize(Digest64(data.data(), data.size()));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Digest)->Arg(1 << 20);

}  // namespace
}  // namespace tripletstream

BENCHMARK_MAIN();
