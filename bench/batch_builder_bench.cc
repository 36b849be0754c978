// Micro-benchmark of one producer thread: BatchBuilder::Build on a synthetic
// dataset shaped like MotionSense (24 users x 15 sessions, 12 channels,
// window 128 stride 64). Reports triplets/s and payload bytes/s.
#include <benchmark/benchmark.h>

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

void BuildTriplets(benchmark::State& state, bool augment) {
  SamplingConfig sampling;
  sampling.batch_size = static_cast<int>(state.range(0));
  AugmentConfig aug;
  if (augment) {
    aug.jitter_sigma = 0.03f;
    aug.scale_sigma = 0.1f;
    aug.max_shift = 8;
  }
  BatchBuilder builder(Dataset(), sampling, aug, 1, 0);
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

void BM_BuildTriplets(benchmark::State& state) { BuildTriplets(state, false); }
void BM_BuildTripletsAugmented(benchmark::State& state) { BuildTriplets(state, true); }
BENCHMARK(BM_BuildTriplets)->Arg(64);
BENCHMARK(BM_BuildTripletsAugmented)->Arg(64);

void BM_Digest(benchmark::State& state) {
  std::vector<char> data(state.range(0), 3);
  for (auto _ : state) benchmark::DoNotOptimize(Digest64(data.data(), data.size()));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Digest)->Arg(1 << 20);

}  // namespace
}  // namespace tripletstream

BENCHMARK_MAIN();
