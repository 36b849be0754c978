#include "trainer/training.h"

#include <glog/logging.h>

#include <chrono>
#include <memory>

#include "absl/strings/str_cat.h"
#include "client/batch_stream.h"
#include "client/grpc_util.h"
#include "common/digest.h"
#include "common/wire.h"
#include "trainer/device_input.h"
#include "trainer/distributed.h"
#include "trainer/lr_schedule.h"
#include "trainer/rank_schedule.h"
#include "trainer/run_log.h"
#include "trainer/run_setup.h"
#include "trainer/train_step.h"
#include "trainer/weight_average.h"

namespace tripletstream {
namespace {

// The cosine schedule ends at this fraction of --lr.
constexpr double kFinalLearningRateFraction = 0.05;

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// The learning rate of a step. With a time budget the cosine decay also
// follows the clock, measured from the end of warm-up (learning rates then
// depend on timing, so --resume is exact only for step budgets).
class LearningRateClock {
 public:
  explicit LearningRateClock(const TrainConfig& config)
      : config_(config), started_(Clock::now()) {}

  double At(int64_t step) {
    double time_progress = 0;
    if (config_.minutes > 0 && step >= config_.warmup_steps) {
      if (decay_started_s_ < 0) decay_started_s_ = Since(started_);
      const double decay_budget_s = config_.minutes * 60 - decay_started_s_;
      time_progress = decay_budget_s > 0
                          ? (Since(started_) - decay_started_s_) / decay_budget_s
                          : 1.0;
    }
    return LearningRate(step, config_.warmup_steps, config_.steps, config_.lr,
                        kFinalLearningRateFraction, time_progress);
  }

 private:
  const TrainConfig& config_;
  const Clock::time_point started_;
  double decay_started_s_ = -1;
};

// Stop votes: a stop request outweighs any number of budget votes, so the
// ranks can tell an interruption from a spent budget.
constexpr double kBudgetVote = 1;
constexpr double kSignalVote = 1e6;

// Whether this process wants to stop before another step: kSignalVote for
// the stop signal, kBudgetVote for a spent budget, 0 to go on.
// `steps_taken` counts the steps this run will have taken when the vote
// takes effect (ranks vote during a step, to stop after it).
double StopVote(const TrainConfig& config, const TrainCollaborators& with, int64_t steps_taken,
                Clock::time_point started) {
  if (with.stop != nullptr && with.stop->requested()) return kSignalVote;
  if (config.max_steps_this_run > 0 && steps_taken >= config.max_steps_this_run) {
    return kBudgetVote;
  }
  if (config.minutes > 0 && Since(started) > config.minutes * 60) {
    LOG(INFO) << "time budget of " << config.minutes << " min reached";
    return kBudgetVote;
  }
  return 0;
}

absl::Status SaveRun(TrainingRun& run, TrainResult* result) {
  if (run.checkpoint_path.empty()) return absl::OkStatus();  // Also ranks > 0.
  result->checkpoint = run.checkpoint_path;
  return SaveCheckpoint(run.checkpoint_path, run.model, *run.optimizer, run.meta, &run.average);
}

// Rank 0 evaluates (on the servers' validation/test windows); the other
// ranks wait for it at a barrier.
absl::StatusOr<EvalReport> EvaluateAndLog(TrainingRun& run, Evaluator& evaluator, RunLog& log,
                                          ProcessGroup* group) {
  absl::StatusOr<EvalReport> report = EvalReport();
  if (group == nullptr || group->rank() == 0) {
    report = evaluator.Run(run.model, run.device);
    if (report.ok()) log.Eval(*report, run.meta.step);
  }
  if (group != nullptr && report.ok()) {
    if (absl::Status s = group->Barrier(); !s.ok()) return s;
  }
  return report;
}

// The accept thresholds `report` chose into `meta`: the headline EER
// threshold, and one per session group of the same split.
void SetThresholds(const EvalReport& report, CheckpointMeta* meta) {
  const VerificationResult* headline = report.headline();
  if (headline == nullptr) return;
  meta->eer_threshold = headline->threshold;
  meta->group_thresholds.clear();
  const auto& groups = report.has_open_set ? report.open_set_groups : report.cross_session_groups;
  for (const auto& [group, result] : groups) {
    if (result.probes > 0 && result.users > 1) meta->group_thresholds[group] = result.threshold;
  }
}

// Model selection: the weights that scored the lowest validation EER so
// far (in memory, and as best.pt beside the checkpoint when there is one).
struct BestModel {
  int64_t step = -1;
  double val_eer_pct = 0;
  std::vector<torch::Tensor> state;  // Parameters, then buffers.
};

// Keeps the model's weights when `report`'s validation EER is the best yet.
absl::Status ConsiderForSelection(const EvalReport& report, TrainingRun& run, BestModel* best) {
  if (!report.has_validation) return absl::OkStatus();
  if (best->step >= 0 && report.validation.eer_pct >= best->val_eer_pct) return absl::OkStatus();
  torch::NoGradGuard no_grad;
  best->step = run.meta.step;
  best->val_eer_pct = report.validation.eer_pct;
  best->state.clear();
  for (const torch::Tensor& t : ModelState(run.model)) best->state.push_back(t.detach().clone());
  LOG(INFO) << "validation EER " << report.validation.eer_pct << "% at step " << run.meta.step
            << ": the best so far, kept for model selection";
  if (run.checkpoint_path.empty()) return absl::OkStatus();
  const std::string best_path =
      run.checkpoint_path.substr(0, run.checkpoint_path.rfind('/') + 1) + "best.pt";
  // best.pt carries the thresholds this model scored, not the run's last.
  CheckpointMeta meta = run.meta;
  SetThresholds(report, &meta);
  return SaveCheckpoint(best_path, run.model, *run.optimizer, meta);
}

// What the loop holds besides the run: the group, the reducer, which batch
// each step trains on, and the record of what was trained.
struct LoopState {
  ProcessGroup* group = nullptr;         // Null for one rank.
  GradientReducer* reducer = nullptr;
  const RankSchedule* schedule = nullptr;
  DeviceInput* input = nullptr;          // Pinned ring + side stream (CUDA).
  BestModel best;                        // Model selection (rank 0).
  std::vector<uint64_t> step_digests;    // Per step of this run; 0 = no batch.
  std::vector<uint8_t> step_had_batch;
  int64_t eval_every = 0;                // Resolved --eval_every (EvalEvery).
};

// --eval_every: -1 (auto) evaluates every kAutoEvalEvery steps when the
// servers hold validation users, so model selection has candidates, and
// only at the end otherwise.
constexpr int64_t kAutoEvalEvery = 250;
int64_t EvalEvery(const TrainConfig& config, const TrainingRun& run) {
  if (config.eval_every >= 0) return config.eval_every;
  for (const v1::SplitInfo& split : run.info.splits()) {
    if (split.split() == v1::SPLIT_VAL && split.users() > 1) return kAutoEvalEvery;
  }
  return 0;
}

// This rank's batch for step `j` of the current epoch, or null when it has
// none; checks it is the one the schedule names.
absl::StatusOr<std::unique_ptr<v1::Batch>> BatchForStep(BatchStream& stream,
                                                        const RankSchedule& schedule,
                                                        int64_t epoch, int64_t j) {
  const int64_t index = schedule.BatchAt(j);
  if (index < 0) return nullptr;
  auto batch = stream.Next();
  if (!batch.ok()) return batch.status();
  if ((*batch)->epoch() != epoch || (*batch)->index() != index ||
      (*batch)->batches_per_epoch() != schedule.batches_per_epoch()) {
    return absl::InternalError(absl::StrCat(
        "expected batch ", index, " of epoch ", epoch, " (", schedule.batches_per_epoch(),
        " per epoch), the stream gave batch ", (*batch)->index(), " of epoch ",
        (*batch)->epoch(), " (", (*batch)->batches_per_epoch(), " per epoch)"));
  }
  return batch;
}

// Steps until the budget, the stop signal or an error.
absl::Status TrainLoop(const TrainConfig& config, const TrainCollaborators& with,
                       TrainingRun& run, BatchStream& stream, Evaluator& evaluator,
                       RunLog& log, LoopState& loop, TrainResult* result) {
  const Clock::time_point started = Clock::now();
  const int64_t first_step = run.meta.step;
  const RankSchedule& schedule = *loop.schedule;
  auto resumed_at = schedule.StepOf(run.meta.next_index);
  if (!resumed_at.ok()) return resumed_at.status();
  int64_t epoch = run.meta.epoch, j = *resumed_at;
  if (j >= schedule.steps_per_epoch()) ++epoch, j = 0;
  LearningRateClock lr_clock(config);
  run.model->train();
  while (run.meta.step < config.steps) {
    // One rank stops before a step; ranks vote in a step to stop after it.
    const int64_t taken = run.meta.step - first_step + (loop.group != nullptr ? 1 : 0);
    const double vote = StopVote(config, with, taken, started);
    if (loop.group == nullptr && vote > 0) {
      result->interrupted = vote >= kSignalVote;
      break;
    }
    const Clock::time_point step_start = Clock::now();
    auto batch = BatchForStep(stream, schedule, epoch, j);
    if (!batch.ok()) {
      if (with.stop != nullptr && with.stop->requested()) {
        result->interrupted = true;  // Woken by the stop signal while waiting.
        break;
      }
      return batch.status();
    }
    const double wait_s = Since(step_start);
    const double lr = lr_clock.At(run.meta.step);
    auto outcome = loop.group == nullptr
                       ? TrainStep(config, run.meta.step, lr, **batch, run.model,
                                   *run.optimizer, run.device, loop.input)
                       : DistributedTrainStep(config, run.meta.step, lr, batch->get(),
                                              run.model, *run.optimizer, run.device,
                                              *loop.reducer, vote, loop.input);
    if (!outcome.ok()) return outcome.status();
    const uint64_t digest = *batch != nullptr ? (*batch)->digest() : 0;
    if (*batch != nullptr) result->batch_digests.push_back(digest);
    loop.step_digests.push_back(digest);
    loop.step_had_batch.push_back(*batch != nullptr ? 1 : 0);
    ++run.meta.step;
    run.average.Update(run.model);
    const int64_t step_epoch = epoch;
    ++j;
    schedule.PositionAfter(epoch, j, &run.meta.epoch, &run.meta.next_index);
    if (j >= schedule.steps_per_epoch()) ++epoch, j = 0;
    result->final_loss = outcome->loss;
    log.Step({run.meta.step, step_epoch, outcome->loss, lr, outcome->anchors, outcome->spread, wait_s,
              Since(step_start), outcome->allreduce_s},
             // Per-server counts only feed the live metrics.
             with.live_metrics != nullptr ? stream.stats() : BatchStreamStats());
    // The step's tensors are gone; the stream may read into the buffer again.
    if (*batch != nullptr) stream.Recycle(*std::move(batch));
    if (config.checkpoint_every > 0 && run.meta.step % config.checkpoint_every == 0) {
      if (absl::Status s = SaveRun(run, result); !s.ok()) return s;
    }
    if (loop.eval_every > 0 && run.meta.step % loop.eval_every == 0) {
      ScopedAverage averaged(run.average, run.model);
      auto report = EvaluateAndLog(run, evaluator, log, loop.group);
      if (!report.ok()) return report.status();
      if (absl::Status s = ConsiderForSelection(*report, run, &loop.best); !s.ok()) return s;
      run.model->train();
    }
    if (outcome->stop_votes > 0) {  // Every rank agreed on this in the step.
      result->interrupted = outcome->stop_votes >= kSignalVote;
      break;
    }
  }
  if (result->interrupted) {
    LOG(INFO) << "stop requested: checkpointing at step " << run.meta.step
              << " without the final evaluation";
  }
  return absl::OkStatus();
}

// Every rank's per-step digests, interleaved in global batch order and
// chained: what one trainer would report for the same batches.
absl::StatusOr<uint64_t> UnionDigest(ProcessGroup& group, const LoopState& loop) {
  const int64_t steps = static_cast<int64_t>(loop.step_digests.size());
  // Row 0: digests (as int64 bits), row 1: whether the step had a batch.
  torch::Tensor mine = torch::empty({2, steps}, torch::kInt64);
  int64_t* row = mine.data_ptr<int64_t>();
  for (int64_t s = 0; s < steps; ++s) {
    row[s] = static_cast<int64_t>(loop.step_digests[s]);
    row[steps + s] = loop.step_had_batch[s];
  }
  auto all = group.AllGather(mine);
  if (!all.ok()) return all.status();
  uint64_t chained = 0;
  for (int64_t s = 0; s < steps; ++s) {
    for (const torch::Tensor& rank : *all) {
      const int64_t* theirs = rank.data_ptr<int64_t>();
      if (theirs[steps + s] == 0) continue;
      chained = CombineDigest(chained, static_cast<uint64_t>(theirs[s]));
    }
  }
  return chained;
}

// The final evaluation's figures into the result and the checkpoint.
void RecordFinalEval(const EvalReport& report, TrainingRun& run, TrainResult* result) {
  if (report.has_cross_session) {
    result->cross_eer_pct = report.cross_session.eer_pct;
    result->cross_top1_pct = report.cross_session.top1_pct;
  }
  if (const VerificationResult* headline = report.headline()) {
    result->eer_pct = headline->eer_pct;
    result->top1_pct = headline->top1_pct;
  }
  SetThresholds(report, &run.meta);
}

// Model selection at the end: when an earlier evaluation had a lower
// validation EER than the final model, its weights are scored on the test
// users and become the headline; the last model's figures stay as last_*.
absl::Status ReportSelectedModel(const EvalReport& final_report, TrainingRun& run,
                                 Evaluator& evaluator, const BestModel& best,
                                 TrainResult* result) {
  result->last_eer_pct = result->eer_pct;
  result->last_top1_pct = result->top1_pct;
  if (!final_report.has_validation) return absl::OkStatus();
  result->selected_step = run.meta.step;
  result->selected_val_eer_pct = final_report.validation.eer_pct;
  if (best.step < 0 || best.val_eer_pct >= final_report.validation.eer_pct) {
    return absl::OkStatus();
  }
  std::vector<torch::Tensor> state = ModelState(run.model);
  std::vector<torch::Tensor> last;
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < state.size(); ++i) {
    last.push_back(state[i].detach().clone());
    state[i].copy_(best.state[i]);
  }
  auto selected = evaluator.Run(run.model, run.device);
  for (size_t i = 0; i < state.size(); ++i) state[i].copy_(last[i]);
  if (!selected.ok()) return selected.status();
  result->selected_step = best.step;
  result->selected_val_eer_pct = best.val_eer_pct;
  if (const VerificationResult* headline = selected->headline()) {
    result->eer_pct = headline->eer_pct;
    result->top1_pct = headline->top1_pct;
  }
  if (selected->has_cross_session) {
    result->cross_eer_pct = selected->cross_session.eer_pct;
    result->cross_top1_pct = selected->cross_session.top1_pct;
  }
  LOG(INFO) << "model selection: step " << best.step << " (validation EER " << best.val_eer_pct
            << "%) over the last step " << run.meta.step << " (validation EER "
            << final_report.validation.eer_pct << "%); test EER " << result->eer_pct
            << "% (last model: " << result->last_eer_pct << "%)";
  return absl::OkStatus();
}

// Which batch this rank trains on at each step of an epoch.
absl::StatusOr<RankSchedule> ScheduleOf(const TrainConfig& config, const TrainingRun& run) {
  const int64_t anchors_per_batch =
      config.loss == LossKind::kTriplet ? config.batch_size : int64_t{config.p} * config.k;
  const int64_t train_windows = run.info.splits_size() > 0 ? run.info.splits(0).windows() : 0;
  RankSchedule schedule(BatchesPerEpoch(train_windows, anchors_per_batch),
                        config.distributed.rank, config.distributed.world_size);
  if (absl::Status s = schedule.Check(); !s.ok()) return s;
  return schedule;
}

// The run's figures into the result, once the loop is over.
void RecordRunFigures(const TrainingRun& run, const BatchStreamStats& received,
                      const RunLog& log, double seconds, TrainResult* result) {
  for (uint64_t d : result->batch_digests) {
    result->stream_digest = CombineDigest(result->stream_digest, d);
  }
  result->reconnects = received.reconnects;
  result->servers = received.servers;
  result->batches_per_server = received.batches_per_server;
  result->steps = run.meta.step;
  result->triplets = log.triplets();
  result->seconds = seconds;
  result->triplets_per_s = result->triplets / std::max(log.stall().total_step_seconds(), 1e-9);
  result->data_stall_pct = log.stall().total_pct();
  result->allreduce_pct = log.total_allreduce_pct();
}

// After a successful loop: the ranks' union digest, the checkpoint, and the
// final evaluation with model selection (rank 0).
absl::Status FinishRun(const TrainConfig& config, TrainingRun& run, Evaluator& evaluator,
                       RunLog& log, LoopState& loop, TrainResult* result) {
  if (loop.group != nullptr && !result->interrupted) {
    auto union_digest = UnionDigest(*loop.group, loop);
    if (!union_digest.ok()) return union_digest.status();
    result->union_digest = *union_digest;
  }
  // Saved before the final evaluation too: that needs servers, and a
  // failure there must not lose the run.
  if (absl::Status s = SaveRun(run, result); !s.ok()) return s;
  if (!config.eval_at_end || result->interrupted) return absl::OkStatus();
  absl::StatusOr<EvalReport> report;
  {
    ScopedAverage averaged(run.average, run.model);
    report = EvaluateAndLog(run, evaluator, log, loop.group);
    if (!report.ok()) return report.status();
    if (loop.group != nullptr && loop.group->rank() != 0) return absl::OkStatus();
    RecordFinalEval(*report, run, result);
    if (absl::Status s = ReportSelectedModel(*report, run, evaluator, loop.best, result);
        !s.ok()) {
      return s;
    }
  }
  return SaveRun(run, result);  // With the threshold.
}

}  // namespace

absl::StatusOr<TrainResult> Train(const TrainConfig& config, const TrainCollaborators& with) {
  const ServerResolver resolve = with.resolve ? with.resolve : ExpandServers;
  std::unique_ptr<ProcessGroup> group;
  if (config.distributed.enabled()) {
    auto joined = ProcessGroup::Join(config.distributed);
    if (!joined.ok()) return joined.status();
    group = *std::move(joined);
  }
  auto run = PrepareRun(config, resolve, group.get());
  if (!run.ok()) return run.status();
  auto schedule = ScheduleOf(config, **run);
  if (!schedule.ok()) return schedule.status();
  auto evaluator = MakeEvaluator(config, **run);
  if (!evaluator.ok()) return evaluator.status();
  RunLog log(config.metrics_path, config.log_every, config.steps, config.margin,
             with.live_metrics);
  log.SetRank(config.distributed.rank, config.distributed.world_size);
  TrainResult result;
  result.rank = config.distributed.rank;
  result.world_size = config.distributed.world_size;
  if (config.eval_at_end && (*run)->meta.step == 0) {
    auto before = EvaluateAndLog(**run, **evaluator, log, group.get());
    if (!before.ok()) return before.status();
    const VerificationResult* headline = before->headline();
    result.initial_eer_pct = headline != nullptr ? headline->eer_pct : -1;
  }
  auto stream = BatchStream::Open(StreamOptions(config, **run, resolve));
  if (!stream.ok()) return stream.status();
  std::unique_ptr<StopSignal::Registration> wake_on_stop;
  if (with.stop != nullptr) {
    wake_on_stop = with.stop->OnRequest([s = stream->get()] { s->Cancel(); });
  }
  std::unique_ptr<GradientReducer> reducer;
  if (group != nullptr) {
    reducer = std::make_unique<GradientReducer>(group.get(), (*run)->model->parameters());
  }
  // On CUDA: batches go through pinned host buffers and a copy stream.
  std::unique_ptr<DeviceInput> input = DeviceInput::ForDevice((*run)->device);
  LoopState loop{group.get(), reducer.get(), &*schedule, input.get()};
  loop.eval_every = EvalEvery(config, **run);
  const Clock::time_point started = Clock::now();
  const int64_t first_step = (*run)->meta.step;
  absl::Status trained = TrainLoop(config, with, **run, **stream, **evaluator, log, loop, &result);
  wake_on_stop.reset();
  const BatchStreamStats received = (*stream)->stats();
  stream->reset();
  if (!trained.ok()) {
    // Keep the steps taken when the data went away (a retried Job resumes
    // there); never after a failed step, whose model may be damaged. Every
    // step counted in meta completed on every rank (its all-reduce did).
    if (IsTransient(trained.code()) && (*run)->meta.step > first_step) {
      if (absl::Status s = SaveRun(**run, &result); s.ok() && !(*run)->checkpoint_path.empty()) {
        LOG(WARNING) << "checkpointed step " << (*run)->meta.step << " before failing";
      }
    }
    return trained;
  }
  RecordRunFigures(**run, received, log, Since(started), &result);
  if (absl::Status s = FinishRun(config, **run, **evaluator, log, loop, &result); !s.ok()) {
    return s;
  }
  return result;
}

}  // namespace tripletstream
