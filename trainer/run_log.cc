#include "trainer/run_log.h"

#include <glog/logging.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <tuple>

#include "absl/strings/str_format.h"
#include "trainer/trainer_metrics.h"

namespace tripletstream {
namespace {

double Since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// ", "name": {"eer_pct": .., "top1_pct": ..}, ..." for each group, and logs them.
std::string GroupsJson(const char* key, const char* label,
                       const std::map<std::string, VerificationResult>& groups, int64_t step) {
  if (groups.empty()) return "";
  std::string json = absl::StrFormat(", \"%s\": {", key);
  bool first = true;
  for (const auto& [group, r] : groups) {
    LOG(INFO) << absl::StrFormat("eval step %d %s [%s]: EER %.2f%% top-1 %.2f%% (%d probes)",
                                 step, label, group, r.eer_pct, r.top1_pct, r.probes);
    absl::StrAppendFormat(&json, "%s\"%s\": {\"eer_pct\": %.4f, \"top1_pct\": %.4f}",
                          first ? "" : ", ", group, r.eer_pct, r.top1_pct);
    first = false;
  }
  return json + "}";
}

// ", "eer_pct": .., "top1_pct": .., "cross_eer_pct": ..." for the open-set and
// cross-session scores, and logs them.
std::string HeadlineJson(const EvalReport& report, int64_t step) {
  std::string json;
  for (const auto& [has, name, key, r] :
       {std::tuple{report.has_open_set, "open-set", "", &report.open_set},
        std::tuple{report.has_cross_session, "cross-session", "cross_",
                   &report.cross_session}}) {
    if (!has) continue;
    LOG(INFO) << absl::StrFormat("eval step %d %s: EER %.2f%% top-1 %.2f%% (%d probes)", step,
                                 name, r->eer_pct, r->top1_pct, r->probes);
    absl::StrAppendFormat(&json, ", \"%seer_pct\": %.4f, \"%stop1_pct\": %.4f", key,
                          r->eer_pct, key, r->top1_pct);
  }
  return json;
}

// ", "open_set_fused": {"3": {...}, ...}, ..." for the fused-window probes,
// and logs them.
std::string FusedJson(const EvalReport& report, int64_t step) {
  std::string json;
  for (const auto& [key, label, fused] :
       {std::tuple{"open_set_fused", "open-set", &report.open_set_fused},
        std::tuple{"cross_session_fused", "cross-session", &report.cross_session_fused}}) {
    if (fused->empty()) continue;
    absl::StrAppendFormat(&json, ", \"%s\": {", key);
    bool first = true;
    for (const auto& [n, r] : *fused) {
      LOG(INFO) << absl::StrFormat("eval step %d %s, %d windows fused: EER %.2f%% top-1 %.2f%% "
                                   "(%d probes)",
                                   step, label, n, r.eer_pct, r.top1_pct, r.probes);
      absl::StrAppendFormat(&json, "%s\"%d\": {\"eer_pct\": %.4f, \"top1_pct\": %.4f}",
                            first ? "" : ", ", n, r.eer_pct, r.top1_pct);
      first = false;
    }
    json += "}";
  }
  return json;
}

// Logs the fused-window scores of every session group (not in the JSON).
void LogGroupsFused(const EvalReport& report, int64_t step) {
  for (const auto& [label, groups] :
       {std::pair{"open-set", &report.open_set_groups_fused},
        std::pair{"cross-session", &report.cross_session_groups_fused}}) {
    for (const auto& [group, by_n] : *groups) {
      for (const auto& [n, r] : by_n) {
        LOG(INFO) << absl::StrFormat(
            "eval step %d %s [%s], %d windows fused: EER %.2f%% top-1 %.2f%% (%d probes)", step,
            label, group, n, r.eer_pct, r.top1_pct, r.probes);
      }
    }
  }
}

// ", "open_set_own_group": {"eer_pct": .., "fused_3": {...}}, ..." for the
// per-group-template scores, and logs them.
std::string OwnGroupJson(const EvalReport& report, int64_t step) {
  std::string json;
  for (const auto& [has, key, label, r, fused] :
       {std::tuple{report.has_open_set_own_group, "open_set_own_group", "open-set",
                   &report.open_set_own_group, &report.open_set_own_group_fused},
        std::tuple{report.has_cross_session_own_group, "cross_session_own_group",
                   "cross-session", &report.cross_session_own_group,
                   &report.cross_session_own_group_fused}}) {
    if (!has) continue;
    LOG(INFO) << absl::StrFormat("eval step %d %s, own-group templates: EER %.2f%% top-1 %.2f%% "
                                 "(%d probes)",
                                 step, label, r->eer_pct, r->top1_pct, r->probes);
    absl::StrAppendFormat(&json, ", \"%s\": {\"eer_pct\": %.4f, \"top1_pct\": %.4f", key,
                          r->eer_pct, r->top1_pct);
    for (const auto& [n, f] : *fused) {
      LOG(INFO) << absl::StrFormat("eval step %d %s, own-group templates, %d windows fused: "
                                   "EER %.2f%% top-1 %.2f%% (%d probes)",
                                   step, label, n, f.eer_pct, f.top1_pct, f.probes);
      absl::StrAppendFormat(&json, ", \"fused_%d\": {\"eer_pct\": %.4f, \"top1_pct\": %.4f}",
                            n, f.eer_pct, f.top1_pct);
    }
    json += "}";
  }
  return json;
}

// ", "det": [[far, frr], ...]": the headline scores' DET curve, for plots
// (scripts/plot_metrics.py); empty without one.
std::string DetJson(const EvalReport& report) {
  const VerificationResult* headline = report.headline();
  if (headline == nullptr || headline->det.empty()) return "";
  std::string json = ", \"det\": [";
  for (size_t i = 0; i < headline->det.size(); ++i) {
    absl::StrAppendFormat(&json, "%s[%.6f, %.6f]", i == 0 ? "" : ", ", headline->det[i].far,
                          headline->det[i].frr);
  }
  return json + "]";
}

}  // namespace

RunLog::RunLog(const std::string& jsonl_path, int64_t log_every, int64_t total_steps,
               double margin, TrainerMetrics* live)
    : log_every_(log_every), total_steps_(total_steps), margin_(margin), live_(live) {
  if (!jsonl_path.empty()) jsonl_.open(jsonl_path, std::ios::app);
  started_ = interval_start_ = std::chrono::steady_clock::now();
}

void RunLog::Step(const StepRecord& r, const BatchStreamStats& stream) {
  stall_.AddStep(r.wait_s, r.step_s);
  triplets_ += r.anchors;
  interval_triplets_ += r.anchors;
  ++interval_steps_;
  loss_sum_ += r.loss;
  interval_allreduce_s_ += r.allreduce_s;
  interval_step_s_ += r.step_s;
  total_allreduce_s_ += r.allreduce_s;
  if (r.spread >= 0) spread_sum_ += r.spread;
  if (live_ != nullptr) {
    live_->RecordStep(r.step, r.step_s, r.wait_s, r.loss);
    if (world_size_ > 1) live_->RecordAllReduce(r.allreduce_s);
    live_->RecordReceived(stream.servers, stream.batches_per_server, stream.reconnects);
  }
  WarnOnCollapse(r);
  if (log_every_ > 0 && r.step % log_every_ == 0) Progress(r);
}

void RunLog::WarnOnCollapse(const StepRecord& r) {
  if (r.spread < 0) return;
  // Unit-norm embeddings of different users sit ~1.4 apart when spread;
  // near 0 means every window maps to the same point.
  collapsed_steps_ = r.spread < 0.05 ? collapsed_steps_ + 1 : 0;
  if (collapsed_steps_ == 50) {
    LOG(WARNING) << "embeddings collapsed (mean pairwise distance " << r.spread
                 << " for 50 steps, loss " << r.loss << " ~ margin " << margin_
                 << "); try --loss=batch_all, a larger --hard_mining_after or a lower --lr";
  }
}

void RunLog::Progress(const StepRecord& r) {
  const double rate = interval_triplets_ / std::max(Since(interval_start_), 1e-9);
  // A run bounded by time alone shows no step total and no ETA.
  const bool unbounded = total_steps_ >= (int64_t{1} << 50);
  const double eta = Since(started_) / std::max<int64_t>(1, r.step) * (total_steps_ - r.step);
  const double loss = loss_sum_ / interval_steps_;
  const double allreduce_pct =
      interval_step_s_ > 0 ? 100 * interval_allreduce_s_ / interval_step_s_ : 0;
  const std::string rank =
      world_size_ > 1 ? absl::StrFormat("rank %d/%d ", rank_, world_size_) : "";
  const std::string allreduce =
      world_size_ > 1 ? absl::StrFormat(" all-reduce %.1f%%", allreduce_pct) : "";
  const std::string of_total = unbounded ? "" : absl::StrFormat("/%d", total_steps_);
  const std::string eta_text = unbounded ? "" : absl::StrFormat(" ETA %.0fs", eta);
  std::printf("%s\n", absl::StrFormat("%sepoch %d step %d%s loss %.4f lr %.2e triplets/s %.0f "
                                      "data-stall %.1f%%%s%s",
                                      rank, r.epoch, r.step, of_total, loss, r.lr, rate,
                                      stall_.interval_pct(), allreduce, eta_text)
                          .c_str());
  std::fflush(stdout);
  if (jsonl_.is_open()) {
    jsonl_ << absl::StrFormat(
                  "{\"step\": %d, \"epoch\": %d, \"loss\": %.6f, \"lr\": %.6g, "
                  "\"triplets_per_s\": %.1f, \"data_stall_pct\": %.3f, "
                  "\"embedding_spread\": %.4f, \"rank\": %d, \"allreduce_pct\": %.3f}",
                  r.step, r.epoch, loss, r.lr, rate, stall_.interval_pct(),
                  spread_sum_ / interval_steps_, rank_, allreduce_pct)
           << "\n"
           << std::flush;
  }
  stall_.ResetInterval();
  interval_start_ = std::chrono::steady_clock::now();
  interval_triplets_ = interval_steps_ = 0;
  loss_sum_ = spread_sum_ = 0;
  interval_allreduce_s_ = interval_step_s_ = 0;
}

void RunLog::Eval(const EvalReport& report, int64_t step) {
  std::string json = absl::StrFormat("{\"step\": %d", step);
  json += HeadlineJson(report, step);
  json += FusedJson(report, step);
  LogGroupsFused(report, step);
  json += OwnGroupJson(report, step);
  json += DetJson(report);
  if (report.has_validation) {
    absl::StrAppendFormat(&json, ", \"val_eer_pct\": %.4f", report.validation.eer_pct);
  }
  json += GroupsJson("open_set_groups", "open-set", report.open_set_groups, step);
  json += GroupsJson("cross_session_groups", "cross-session", report.cross_session_groups, step);
  if (jsonl_.is_open()) jsonl_ << json << "}\n" << std::flush;
  if (live_ != nullptr) {
    const VerificationResult* headline = report.headline();
    const VerificationResult* cross = report.has_cross_session ? &report.cross_session : nullptr;
    live_->RecordEval(headline ? headline->eer_pct : -1, headline ? headline->top1_pct : -1,
                      cross ? cross->eer_pct : -1, cross ? cross->top1_pct : -1);
  }
}

}  // namespace tripletstream
