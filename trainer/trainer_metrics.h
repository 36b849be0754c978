#ifndef TRIPLETSTREAM_TRAINER_TRAINER_METRICS_H_
#define TRIPLETSTREAM_TRAINER_TRAINER_METRICS_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "metrics/metrics_registry.h"

namespace tripletstream {

// Live training figures for the Prometheus endpoint. The training loop is
// the only writer; scrapes read concurrently. No LibTorch here.
class TrainerMetrics {
 public:
  // After each step: its duration, the part spent waiting for the batch
  // (DS-Analyzer's data stall) and its loss.
  void RecordStep(int64_t step, double step_s, double wait_s, double loss);
  // Latest evaluation; a negative value means "not measured".
  void RecordEval(double eer_pct, double top1_pct, double cross_eer_pct, double cross_top1_pct);
  // Batches received from each server so far (whole run) and stream re-opens.
  void RecordReceived(const std::vector<std::string>& servers,
                      const std::vector<int64_t>& batches, int64_t reconnects);

  int64_t steps() const { return steps_.load(std::memory_order_relaxed); }

  // Data-parallel ranks: time spent waiting for gradient all-reduces.
  void RecordAllReduce(double seconds);

  // Registers every tripletstream_trainer_* family on `registry`. With
  // `rank` >= 0 (a data-parallel rank) every sample carries rank="<rank>",
  // so the ranks of one run are told apart however they are scraped.
  absl::Status Register(MetricsRegistry* registry, int rank = -1);

 private:
  std::atomic<int64_t> steps_{0};
  std::atomic<double> last_step_s_{0};
  std::atomic<double> step_s_total_{0};
  std::atomic<double> wait_s_total_{0};
  std::atomic<double> loss_{0};
  std::atomic<double> eer_pct_{-1}, top1_pct_{-1}, cross_eer_pct_{-1}, cross_top1_pct_{-1};
  std::atomic<int64_t> reconnects_{0};
  std::atomic<double> allreduce_s_total_{0};
  absl::Mutex mu_;
  std::vector<std::string> servers_ ABSL_GUARDED_BY(mu_);
  std::vector<int64_t> batches_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_TRAINER_TRAINER_METRICS_H_
