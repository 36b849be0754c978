#ifndef TRIPLETSTREAM_TRAINER_RUN_LOG_H_
#define TRIPLETSTREAM_TRAINER_RUN_LOG_H_

#include <chrono>
#include <cstdint>
#include <fstream>
#include <string>

#include "client/batch_stream.h"
#include "trainer/stall_meter.h"
#include "trainer/verification_metrics.h"

namespace tripletstream {

class TrainerMetrics;

// What one optimizer step did.
struct StepRecord {
  int64_t step = 0;    // Steps taken after this one.
  int64_t epoch = 0;
  double loss = 0;
  double lr = 0;
  int64_t anchors = 0;
  double spread = -1;  // Mean pairwise embedding distance; < 0 = not measured.
  double wait_s = 0;   // Time blocked waiting for the batch (data stall).
  double step_s = 0;   // Wait + compute.
  double allreduce_s = 0;  // Of compute, waiting for gradient all-reduces.
};

// The run's record, written to every sink at once: a progress line on stdout
// and one JSON object per line in the metrics file every `log_every` steps,
// Prometheus figures every step, glog lines for evaluations and warnings
// (collapsed embeddings). Owns the data-stall accounting.
class RunLog {
 public:
  // `jsonl_path` empty = no file; `live` null = no Prometheus figures.
  RunLog(const std::string& jsonl_path, int64_t log_every, int64_t total_steps,
         double margin, TrainerMetrics* live);

  void Step(const StepRecord& record, const BatchStreamStats& stream);
  // `step` = steps taken when the model was evaluated.
  void Eval(const EvalReport& report, int64_t step);

  const StallMeter& stall() const { return stall_; }
  int64_t triplets() const { return triplets_; }
  // Data-parallel runs: progress lines name the rank and the all-reduce
  // share of step time.
  void SetRank(int rank, int world_size) { rank_ = rank, world_size_ = world_size; }
  double total_allreduce_pct() const {
    return stall_.total_step_seconds() > 0 ? 100 * total_allreduce_s_ / stall_.total_step_seconds()
                                           : 0;
  }

 private:
  void Progress(const StepRecord& record);
  void WarnOnCollapse(const StepRecord& record);

  std::ofstream jsonl_;
  const int64_t log_every_;
  const int64_t total_steps_;
  const double margin_;
  TrainerMetrics* const live_;
  StallMeter stall_;
  std::chrono::steady_clock::time_point started_, interval_start_;
  int64_t triplets_ = 0, interval_triplets_ = 0, interval_steps_ = 0;
  double loss_sum_ = 0, spread_sum_ = 0;
  int64_t collapsed_steps_ = 0;
  int rank_ = 0, world_size_ = 1;
  double interval_allreduce_s_ = 0, interval_step_s_ = 0, total_allreduce_s_ = 0;
};

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_TRAINER_RUN_LOG_H_
