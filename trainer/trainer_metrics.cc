#include "trainer/trainer_metrics.h"

#include <cmath>

namespace tripletstream {

void TrainerMetrics::RecordStep(int64_t step, double step_s, double wait_s, double loss) {
  steps_.store(step, std::memory_order_relaxed);
  last_step_s_.store(step_s, std::memory_order_relaxed);
  // Single writer: load + store is an exact running sum.
  step_s_total_.store(step_s_total_.load(std::memory_order_relaxed) + step_s,
                      std::memory_order_relaxed);
  wait_s_total_.store(wait_s_total_.load(std::memory_order_relaxed) + wait_s,
                      std::memory_order_relaxed);
  loss_.store(loss, std::memory_order_relaxed);
}

void TrainerMetrics::RecordEval(double eer_pct, double top1_pct, double cross_eer_pct,
                                double cross_top1_pct) {
  eer_pct_.store(eer_pct);
  top1_pct_.store(top1_pct);
  cross_eer_pct_.store(cross_eer_pct);
  cross_top1_pct_.store(cross_top1_pct);
}

void TrainerMetrics::RecordReceived(const std::vector<std::string>& servers,
                                    const std::vector<int64_t>& batches, int64_t reconnects) {
  absl::MutexLock lock(&mu_);
  servers_ = servers;
  batches_ = batches;
  reconnects_.store(reconnects, std::memory_order_relaxed);
}

void TrainerMetrics::RecordAllReduce(double seconds) {
  allreduce_s_total_.store(allreduce_s_total_.load(std::memory_order_relaxed) + seconds,
                           std::memory_order_relaxed);
}

absl::Status TrainerMetrics::Register(MetricsRegistry* registry, int rank) {
  using Label = std::pair<std::string, std::string>;
  const std::vector<Label> rank_label =
      rank >= 0 ? std::vector<Label>{{"rank", std::to_string(rank)}} : std::vector<Label>{};
  // Evaluation gauges are absent (NaN) until the first evaluation.
  auto measured = [](const std::atomic<double>* v) {
    return [v] {
      const double x = v->load();
      return x < 0 ? std::nan("") : x;
    };
  };
  const std::vector<MetricsRegistry::Value> values = {
      {"tripletstream_trainer_steps", "Optimizer steps done (a resumed run counts earlier ones).",
       MetricType::kGauge, [this] { return static_cast<double>(steps_.load()); }},
      {"tripletstream_trainer_step_seconds", "Duration of the last step (input wait + compute).",
       MetricType::kGauge, [this] { return last_step_s_.load(); }},
      {"tripletstream_trainer_step_seconds_total", "Time spent in steps by this process.",
       MetricType::kCounter, [this] { return step_s_total_.load(); }},
      {"tripletstream_trainer_input_wait_seconds_total",
       "Time steps spent waiting for their batch (data stall).", MetricType::kCounter,
       [this] { return wait_s_total_.load(); }},
      {"tripletstream_trainer_data_stall_ratio",
       "Share of step time spent waiting for input over this process's run (0..1).",
       MetricType::kGauge,
       [this] {
         const double total = step_s_total_.load();
         return total > 0 ? wait_s_total_.load() / total : 0.0;
       }},
      {"tripletstream_trainer_loss", "Loss of the last step.", MetricType::kGauge,
       [this] { return loss_.load(); }},
      {"tripletstream_trainer_eer_percent",
       "Verification EER (%) of the latest evaluation (open-set, else cross-session).",
       MetricType::kGauge, measured(&eer_pct_)},
      {"tripletstream_trainer_top1_percent", "Identification top-1 (%) of the latest evaluation.",
       MetricType::kGauge, measured(&top1_pct_)},
      {"tripletstream_trainer_cross_session_eer_percent",
       "Cross-session verification EER (%) of the latest evaluation.", MetricType::kGauge,
       measured(&cross_eer_pct_)},
      {"tripletstream_trainer_reconnects_total",
       "Streams re-opened after a server failed (failover).", MetricType::kCounter,
       [this] { return static_cast<double>(reconnects_.load()); }},
      {"tripletstream_trainer_allreduce_seconds_total",
       "Time steps spent waiting for gradient all-reduces (data-parallel ranks).",
       MetricType::kCounter, [this] { return allreduce_s_total_.load(); }},
  };
  for (const MetricsRegistry::Value& v : values) {
    absl::Status added = registry->Add(v.name, v.help, v.type, [rank_label, value = v.value] {
      return std::vector<MetricSample>{MetricSample{rank_label, value()}};
    });
    if (!added.ok()) return added;
  }
  return registry->Add(
      "tripletstream_trainer_batches_received_total", "Batches received per data server.",
      MetricType::kCounter, [this, rank_label] {
        absl::MutexLock lock(&mu_);
        std::vector<MetricSample> out;
        for (size_t i = 0; i < servers_.size() && i < batches_.size(); ++i) {
          MetricSample sample{rank_label, static_cast<double>(batches_[i])};
          sample.labels.emplace_back("server", servers_[i]);
          out.push_back(std::move(sample));
        }
        return out;
      });
}

}  // namespace tripletstream
