// One optimizer step of the default TCN on a triplet batch of 64 (192
// windows of 128 x 12), no data path: what the trainer's compute costs.
// TCN_STEP_TRACE=FILE writes a LibTorch profiler trace of 5 steps first.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cstdlib>

#include "trainer/losses.h"
#include "trainer/tcn.h"

namespace tripletstream {
namespace {

void TcnTrainingStep(benchmark::State& state) {
  torch::set_num_threads(static_cast<int>(state.range(0)));
  torch::manual_seed(1);
  TcnOptions options;
  options.dropout = state.range(1) / 100.0;
  Tcn model(options);
  torch::optim::AdamW optimizer(model->parameters(),
                                torch::optim::AdamWOptions(1e-3).weight_decay(1e-4));
  const torch::Tensor batch = torch::randn({192, 128, 12});
  auto step = [&] {
    torch::Tensor e = model->forward(batch);
    torch::Tensor loss = TripletMarginLoss(e.narrow(0, 0, 64), e.narrow(0, 64, 64),
                                           e.narrow(0, 128, 64), 0.5);
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    return loss.item<float>();
  };
  for (int i = 0; i < 3; ++i) step();
  if (const char* trace = std::getenv("TCN_STEP_TRACE")) {
    torch::autograd::profiler::RecordProfile profile(trace);
    for (int i = 0; i < 5; ++i) step();
  }
  for (auto _ : state) benchmark::DoNotOptimize(step());
  state.counters["triplets_per_s"] =
      benchmark::Counter(64.0 * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(TcnTrainingStep)
    ->ArgNames({"threads", "dropout_pct"})
    ->Args({1, 10})
    ->Args({1, 0})
    ->Args({2, 10})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(5);

}  // namespace
}  // namespace tripletstream

BENCHMARK_MAIN();
