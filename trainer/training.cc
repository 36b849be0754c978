#include "trainer/training.h"

#include <glog/logging.h>

#include <chrono>
#include <memory>

#include "absl/strings/str_cat.h"
#include "client/batch_stream.h"
#include "client/grpc_util.h"
#include "common/digest.h"
#include "trainer/lr_schedule.h"
#include "trainer/run_log.h"
#include "trainer/run_setup.h"
#include "trainer/train_step.h"

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

// Whether the loop should stop before taking another step.
bool ShouldStop(const TrainConfig& config, const TrainCollaborators& with, int64_t steps_taken,
                Clock::time_point started, TrainResult* result) {
  if (config.max_steps_this_run > 0 && steps_taken >= config.max_steps_this_run) return true;
  if (with.stop != nullptr && with.stop->requested()) {
    result->interrupted = true;
    return true;
  }
  if (config.minutes > 0 && Since(started) > config.minutes * 60) {
    LOG(INFO) << "time budget of " << config.minutes << " min reached";
    return true;
  }
  return false;
}

absl::Status SaveRun(TrainingRun& run, TrainResult* result) {
  if (run.checkpoint_path.empty()) return absl::OkStatus();
  result->checkpoint = run.checkpoint_path;
  return SaveCheckpoint(run.checkpoint_path, run.model, *run.optimizer, run.meta);
}

absl::StatusOr<EvalReport> EvaluateAndLog(TrainingRun& run, Evaluator& evaluator, RunLog& log) {
  auto report = evaluator.Run(run.model, run.device);
  if (report.ok()) log.Eval(*report, run.meta.step);
  return report;
}

// Steps until the budget, the stop signal or an error.
absl::Status TrainLoop(const TrainConfig& config, const TrainCollaborators& with,
                       TrainingRun& run, BatchStream& stream, Evaluator& evaluator,
                       RunLog& log, TrainResult* result) {
  const Clock::time_point started = Clock::now();
  const int64_t first_step = run.meta.step;
  LearningRateClock lr_clock(config);
  run.model->train();
  while (run.meta.step < config.steps) {
    if (ShouldStop(config, with, run.meta.step - first_step, started, result)) break;
    const Clock::time_point step_start = Clock::now();
    absl::StatusOr<std::unique_ptr<v1::Batch>> batch = stream.Next();
    if (!batch.ok()) {
      if (with.stop != nullptr && with.stop->requested()) {
        result->interrupted = true;  // Woken by the stop signal while waiting.
        break;
      }
      return batch.status();
    }
    const double wait_s = Since(step_start);
    const double lr = lr_clock.At(run.meta.step);
    auto outcome = TrainStep(config, run.meta.step, lr, **batch, run.model, *run.optimizer,
                             run.device);
    if (!outcome.ok()) return outcome.status();
    result->batch_digests.push_back((*batch)->digest());
    ++run.meta.step;
    const StreamPosition position = stream.position();
    run.meta.epoch = position.epoch;
    run.meta.next_index = position.next_index;
    result->final_loss = outcome->loss;
    log.Step({run.meta.step, (*batch)->epoch(), outcome->loss, lr, outcome->anchors,
              outcome->spread, wait_s, Since(step_start)},
             // Per-server counts only feed the live metrics.
             with.live_metrics != nullptr ? stream.stats() : BatchStreamStats());
    // The step's tensors are gone; the stream may read into the buffer again.
    stream.Recycle(*std::move(batch));
    if (config.checkpoint_every > 0 && run.meta.step % config.checkpoint_every == 0) {
      if (absl::Status s = SaveRun(run, result); !s.ok()) return s;
    }
    if (config.eval_every > 0 && run.meta.step % config.eval_every == 0) {
      if (auto report = EvaluateAndLog(run, evaluator, log); !report.ok()) return report.status();
      run.model->train();
    }
  }
  if (result->interrupted) {
    LOG(INFO) << "stop requested: checkpointing at step " << run.meta.step
              << " without the final evaluation";
  }
  return absl::OkStatus();
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
    run.meta.eer_threshold = headline->threshold;
  }
}

}  // namespace

absl::StatusOr<TrainResult> Train(const TrainConfig& config, const TrainCollaborators& with) {
  const ServerResolver resolve = with.resolve ? with.resolve : ExpandServers;
  auto run = PrepareRun(config, resolve);
  if (!run.ok()) return run.status();
  auto evaluator = MakeEvaluator(config, **run);
  if (!evaluator.ok()) return evaluator.status();
  RunLog log(config.metrics_path, config.log_every, config.steps, config.margin,
             with.live_metrics);
  TrainResult result;
  if (config.eval_at_end && (*run)->meta.step == 0) {
    auto before = EvaluateAndLog(**run, **evaluator, log);
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
  const Clock::time_point started = Clock::now();
  const int64_t first_step = (*run)->meta.step;
  absl::Status trained = TrainLoop(config, with, **run, **stream, **evaluator, log, &result);
  wake_on_stop.reset();
  const BatchStreamStats received = (*stream)->stats();
  stream->reset();
  if (!trained.ok()) {
    // Keep the steps taken when the data went away (a retried Job resumes
    // there); never after a failed step, whose model may be damaged.
    if (IsTransient(trained.code()) && (*run)->meta.step > first_step) {
      if (absl::Status s = SaveRun(**run, &result); s.ok()) {
        LOG(WARNING) << "checkpointed step " << (*run)->meta.step << " before failing";
      }
    }
    return trained;
  }

  for (uint64_t d : result.batch_digests) {
    result.stream_digest = CombineDigest(result.stream_digest, d);
  }
  result.reconnects = received.reconnects;
  result.servers = received.servers;
  result.batches_per_server = received.batches_per_server;
  result.steps = (*run)->meta.step;
  result.triplets = log.triplets();
  result.seconds = Since(started);
  result.triplets_per_s = result.triplets / std::max(log.stall().total_step_seconds(), 1e-9);
  result.data_stall_pct = log.stall().total_pct();
  // Saved before the final evaluation too: that needs servers, and a
  // failure there must not lose the run.
  if (absl::Status s = SaveRun(**run, &result); !s.ok()) return s;
  if (config.eval_at_end && !result.interrupted) {
    auto report = EvaluateAndLog(**run, **evaluator, log);
    if (!report.ok()) return report.status();
    RecordFinalEval(*report, **run, &result);
    if (absl::Status s = SaveRun(**run, &result); !s.ok()) return s;  // With the threshold.
  }
  return result;
}

}  // namespace tripletstream
