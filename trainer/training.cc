#include "trainer/training.h"

#include <glog/logging.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/digest.h"
#include "probe/stream_probe.h"
#include "re2/re2.h"
#include "trainer/batch_receiver.h"
#include "trainer/checkpoint.h"
#include "trainer/evaluation.h"
#include "trainer/losses.h"
#include "trainer/received_tally.h"
#include "trainer/server_list.h"
#include "trainer/lr_schedule.h"
#include "trainer/stall_meter.h"
#include "trainer/session_groups.h"
#include "trainer/trainer_metrics.h"

namespace tripletstream {
namespace {

// The cosine schedule ends at this fraction of --lr.
constexpr double kFinalLearningRateFraction = 0.05;

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string LossConfig(const TrainConfig& c) {
  const char* loss = c.loss == LossKind::kTriplet     ? "triplet"
                     : c.loss == LossKind::kBatchHard ? "batch_hard"
                                                      : "batch_all";
  std::string text = absl::StrFormat(
      "loss=%s margin=%g hard_after=%d b=%d p=%d k=%d pos_other=%d lr=%g "
      "wd=%g warmup=%d steps=%d clip=%g",
      loss, c.margin, c.hard_mining_after, c.batch_size, c.p, c.k, c.positive_other_session,
      c.lr, c.weight_decay, c.warmup_steps, c.steps, c.clip_norm);
  if (c.softmax_weight > 0) {
    absl::StrAppendFormat(&text, " softmax=%g scale=%g", c.softmax_weight, c.softmax_scale);
  }
  return text;
}

class MetricsLog {
 public:
  explicit MetricsLog(const std::string& path) {
    if (!path.empty()) out_.open(path, std::ios::app);
  }
  void Write(const std::string& json) {
    if (out_.is_open()) out_ << json << "\n" << std::flush;
  }

 private:
  std::ofstream out_;
};

// The evaluation splits, fetched once.
struct EvalSets {
  WindowSet test, train, holdout;
};

}  // namespace

absl::StatusOr<TrainResult> Train(const TrainConfig& given) {
  TrainConfig config = given;
  auto resolve = given.resolve_servers ? given.resolve_servers : ExpandServers;
  auto servers = resolve(given.servers);
  if (!servers.ok()) return servers.status();
  config.servers = *std::move(servers);
  if (config.servers.empty()) return absl::InvalidArgumentError("--servers is empty");
  if (config.servers != given.servers) {
    LOG(INFO) << "servers: " << absl::StrJoin(config.servers, ", ");
  }
  if (config.device != "cpu" && config.device != "cuda") {
    return absl::InvalidArgumentError(
        absl::StrCat("--device must be cpu or cuda, got '", config.device, "'"));
  }
  if (config.device == "cuda" && !torch::cuda::is_available()) {
    return absl::FailedPreconditionError(
        "--device=cuda but no CUDA device is visible (or this LibTorch has no CUDA); "
        "use --device=cpu");
  }
  const torch::Device device(config.device == "cuda" ? torch::kCUDA : torch::kCPU);
  // Debian's LibTorch starts with one intra-op thread; use the cores.
  torch::set_num_threads(config.torch_threads > 0
                             ? config.torch_threads
                             : std::max(1u, std::thread::hardware_concurrency()));
  auto info = FetchDatasetInfo(config.servers[0], 30);
  if (!info.ok()) return info.status();

  TcnOptions options = config.model;
  options.in_channels = info->channel_names_size();
  // Proxies for every user the server knows (labels are global user ids).
  options.classes = config.softmax_weight > 0 ? info->user_names_size() : 0;
  torch::manual_seed(config.seed);
  Tcn model(options);
  model->to(device);
  torch::optim::AdamW optimizer(
      model->parameters(),
      torch::optim::AdamWOptions(config.lr).weight_decay(config.weight_decay));
  LOG(INFO) << "TCN " << options.ToString() << ", receptive field "
            << ReceptiveField(options) << " samples (window " << info->window_length()
            << "), " << info->channel_names_size() << " channels, device " << config.device
            << ", " << torch::get_num_threads() << " threads";

  CheckpointMeta meta;
  meta.model_config = options.ToString();
  meta.fingerprint = info->fingerprint();
  meta.loss_config = LossConfig(config);
  meta.seed = config.seed;
  meta.window_length = info->window_length();
  meta.channel_names.assign(info->channel_names().begin(), info->channel_names().end());
  meta.norm_mean.assign(info->norm_mean().begin(), info->norm_mean().end());
  meta.norm_std.assign(info->norm_std().begin(), info->norm_std().end());
  const std::string checkpoint_path =
      config.checkpoint_dir.empty() ? "" : config.checkpoint_dir + "/checkpoint.pt";
  if (!config.checkpoint_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(config.checkpoint_dir, ec);
  }
  if (config.resume && !checkpoint_path.empty() && std::filesystem::exists(checkpoint_path)) {
    auto saved = ReadCheckpointMeta(checkpoint_path);
    if (!saved.ok()) return saved.status();
    if (saved->fingerprint != meta.fingerprint) {
      return absl::FailedPreconditionError(absl::StrCat(
          checkpoint_path, " was trained on dataset ", saved->fingerprint,
          ", the servers have ", meta.fingerprint, " (different data or preprocessing)"));
    }
    if (saved->model_config != meta.model_config || saved->loss_config != meta.loss_config) {
      return absl::FailedPreconditionError(absl::StrCat(
          checkpoint_path, " has model [", saved->model_config, "] and run [",
          saved->loss_config, "]; the flags ask for [", meta.model_config, "] and [",
          meta.loss_config, "]"));
    }
    if (absl::Status s = LoadCheckpoint(checkpoint_path, model, &optimizer); !s.ok()) return s;
    meta.step = saved->step;
    meta.epoch = saved->epoch;
    meta.next_index = saved->next_index;
    LOG(INFO) << "resumed " << checkpoint_path << " at step " << meta.step << ", epoch "
              << meta.epoch << ", batch " << meta.next_index;
  }

  std::vector<bool> enroll_session;
  if (!config.enroll_sessions.empty()) {
    RE2 enroll_re(config.enroll_sessions, RE2::Quiet);
    if (!enroll_re.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid --enroll_sessions regex '", config.enroll_sessions, "': ", enroll_re.error()));
    }
    for (const std::string& name : info->session_names()) {
      enroll_session.push_back(RE2::FullMatch(name, enroll_re));
    }
  }
  auto session_groups = SessionGroups(config.session_groups_spec,
                                      {info->session_names().begin(),
                                       info->session_names().end()});
  if (!session_groups.ok()) return session_groups.status();
  MetricsLog metrics(config.metrics_path);
  TrainResult result;
  std::optional<EvalSets> eval_sets;
  auto evaluate = [&]() -> absl::StatusOr<EvalReport> {
    if (!eval_sets) {
      EvalSets sets;
      for (auto [split, target] : {std::pair{v1::SPLIT_TEST, &sets.test},
                                   std::pair{v1::SPLIT_TRAIN, &sets.train},
                                   std::pair{v1::SPLIT_HOLDOUT, &sets.holdout}}) {
        // Any server will do: the first that answers.
        absl::StatusOr<WindowSet> windows = absl::UnavailableError("no server");
        for (const std::string& server : config.servers) {
          windows = FetchWindows(server, split, meta.fingerprint);
          if (windows.ok()) break;
          LOG(WARNING) << "evaluation windows from " << server << ": " << windows.status();
        }
        if (!windows.ok()) return windows.status();
        *target = *std::move(windows);
      }
      if (sets.holdout.size() == 0) sets.train = WindowSet();  // Only for cross-session.
      eval_sets = std::move(sets);
    }
    return Evaluate(model, device, eval_sets->test, eval_sets->train, eval_sets->holdout,
                    enroll_session, *session_groups);
  };
  auto log_eval = [&](const EvalReport& report, int64_t step) {
    std::string json = absl::StrFormat("{\"step\": %d", step);
    if (report.has_open_set) {
      LOG(INFO) << absl::StrFormat("eval step %d open-set: EER %.2f%% top-1 %.2f%% (%d probes)",
                                   step, report.open_set.eer_pct, report.open_set.top1_pct,
                                   report.open_set.probes);
      absl::StrAppendFormat(&json, ", \"eer_pct\": %.4f, \"top1_pct\": %.4f",
                            report.open_set.eer_pct, report.open_set.top1_pct);
    }
    if (report.has_cross_session) {
      LOG(INFO) << absl::StrFormat(
          "eval step %d cross-session: EER %.2f%% top-1 %.2f%% (%d probes)", step,
          report.cross_session.eer_pct, report.cross_session.top1_pct,
          report.cross_session.probes);
      absl::StrAppendFormat(&json, ", \"cross_eer_pct\": %.4f, \"cross_top1_pct\": %.4f",
                            report.cross_session.eer_pct, report.cross_session.top1_pct);
    }
    for (const auto& [name, groups] :
         {std::pair{"open-set", &report.open_set_groups},
          std::pair{"cross-session", &report.cross_session_groups}}) {
      if (groups->empty()) continue;
      absl::StrAppendFormat(&json, ", \"%s_groups\": {",
                            std::string(name) == "open-set" ? "open_set" : "cross_session");
      bool first = true;
      for (const auto& [group, r] : *groups) {
        LOG(INFO) << absl::StrFormat("eval step %d %s [%s]: EER %.2f%% top-1 %.2f%% (%d probes)",
                                     step, name, group, r.eer_pct, r.top1_pct, r.probes);
        absl::StrAppendFormat(&json, "%s\"%s\": {\"eer_pct\": %.4f, \"top1_pct\": %.4f}",
                              first ? "" : ", ", group, r.eer_pct, r.top1_pct);
        first = false;
      }
      json += "}";
    }
    metrics.Write(json + "}");
    if (config.live_metrics != nullptr) {
      config.live_metrics->RecordEval(
          report.has_open_set ? report.open_set.eer_pct
                              : report.has_cross_session ? report.cross_session.eer_pct : -1,
          report.has_open_set ? report.open_set.top1_pct
                              : report.has_cross_session ? report.cross_session.top1_pct : -1,
          report.has_cross_session ? report.cross_session.eer_pct : -1,
          report.has_cross_session ? report.cross_session.top1_pct : -1);
    }
  };
  if (config.eval_at_end && meta.step == 0) {
    auto before = evaluate();
    if (!before.ok()) return before.status();
    log_eval(*before, 0);
    result.initial_eer_pct = before->has_open_set ? before->open_set.eer_pct
                             : before->has_cross_session ? before->cross_session.eer_pct
                                                         : -1;
  }

  ReceiverConfig receiver_config;
  receiver_config.servers = config.servers;
  receiver_config.prefetch_per_shard = config.prefetch_per_shard;
  v1::StreamTripletsRequest& request = receiver_config.request;
  request.set_seed(config.seed);
  request.set_expected_fingerprint(meta.fingerprint);
  request.set_positive_other_session(config.positive_other_session);
  if (config.loss == LossKind::kTriplet) {
    request.set_mode(v1::SAMPLING_MODE_TRIPLET);
    request.set_batch_size(config.batch_size);
  } else {
    request.set_mode(v1::SAMPLING_MODE_PK);
    request.set_p(config.p);
    request.set_k(config.k);
  }

  model->train();
  StallMeter stall;
  const Clock::time_point started = Clock::now();
  Clock::time_point interval_start = started;
  int64_t interval_triplets = 0;
  int64_t collapsed_steps = 0;
  double spread_sum = 0;
  double loss_sum = 0;
  int64_t loss_count = 0;
  auto receiver = std::make_unique<BatchReceiver>(receiver_config);
  receiver->Start(meta.epoch, meta.next_index);
  // Batches and reconnects over the run, across the receivers of successive
  // epochs (whose server lists may differ), servers in first-seen order.
  ReceivedTally tally;
  std::vector<std::string> received_from;
  std::vector<int64_t> received;
  auto received_so_far = [&] {
    return tally.Snapshot(receiver_config.servers, receiver->stats(), &received_from,
                          &received);
  };
  auto save = [&]() -> absl::Status {
    if (checkpoint_path.empty()) return absl::OkStatus();
    result.checkpoint = checkpoint_path;
    return SaveCheckpoint(checkpoint_path, model, optimizer, meta);
  };

  const int64_t first_step = meta.step;
  double decay_started_s = -1;  // Seconds into the run when warm-up ended.
  while (meta.step < config.steps) {
    if (config.max_steps_this_run > 0 && meta.step - first_step >= config.max_steps_this_run) {
      break;
    }
    if (config.stop_requested != nullptr && config.stop_requested->load()) {
      LOG(INFO) << "stop requested: checkpointing at step " << meta.step
                << " without the final evaluation";
      result.interrupted = true;
      break;
    }
    if (config.minutes > 0 && Since(started) > config.minutes * 60) {
      LOG(INFO) << "time budget of " << config.minutes << " min reached";
      break;
    }
    const Clock::time_point step_start = Clock::now();
    auto batch = receiver->Next();
    if (!batch.ok() && batch.status().code() == absl::StatusCode::kOutOfRange) {
      ++meta.epoch;
      meta.next_index = 0;
      tally.Fold(receiver_config.servers, receiver->stats());
      // Re-resolve dns:/// names at each epoch, so data servers added (say
      // by an autoscaler) or removed since take part. Batches do not depend
      // on the server count.
      auto refreshed = resolve(given.servers);
      if (!refreshed.ok() || refreshed->empty()) {
        LOG(WARNING) << "keeping the servers of the last epoch: "
                     << (refreshed.ok() ? "no address" : refreshed.status().ToString());
      } else if (*refreshed != receiver_config.servers) {
        LOG(INFO) << "servers from epoch " << meta.epoch << ": " << absl::StrJoin(*refreshed, ", ");
        receiver_config.servers = *std::move(refreshed);
      }
      receiver = std::make_unique<BatchReceiver>(receiver_config);
      receiver->Start(meta.epoch, 0);
      continue;
    }
    if (!batch.ok()) return batch.status();
    const double wait_s = Since(step_start);
    v1::Batch& b = **batch;
    std::vector<int64_t> shape(b.shape().begin(), b.shape().end());
    // With a time budget the cosine decay also follows the clock, measured
    // from the end of warm-up (learning rates then depend on timing, so
    // --resume is exact only for step budgets).
    double time_progress = 0;
    if (config.minutes > 0 && meta.step >= config.warmup_steps) {
      if (decay_started_s < 0) decay_started_s = Since(started);
      const double decay_budget_s = config.minutes * 60 - decay_started_s;
      time_progress =
          decay_budget_s > 0 ? (Since(started) - decay_started_s) / decay_budget_s : 1.0;
    }
    const double lr = LearningRate(meta.step, config.warmup_steps, config.steps, config.lr,
                                   kFinalLearningRateFraction, time_progress);
    double loss_value = 0;
    double spread = -1;  // Mean pairwise embedding distance (P x K batches).
    int64_t anchors = 0;
    try {
      torch::Tensor data =
          torch::from_blob(b.mutable_data()->data(), shape, torch::kFloat32).to(device);
      for (auto& group : optimizer.param_groups()) {
        static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
      }
      optimizer.zero_grad();
      torch::Tensor loss;
      // One user label per window: 3B for triplet batches, P*K otherwise.
      torch::Tensor labels =
          torch::from_blob(b.mutable_labels()->mutable_data(), {b.labels_size()},
                           torch::kInt32)
              .to(device);
      torch::Tensor e;
      if (b.mode() == v1::SAMPLING_MODE_TRIPLET) {
        const int64_t n = shape[1];
        anchors = n;
        e = model->forward(data.view({3 * n, shape[2], shape[3]}));
        auto parts = e.split(n);
        loss = TripletMarginLoss(parts[0], parts[1], parts[2], config.margin);
      } else {
        anchors = shape[0];
        e = model->forward(data);
        // Collapse guard: batch-hard from a random start tends to pull every
        // embedding to one point (loss stuck at the margin), so the first
        // `hard_mining_after` steps use batch-all.
        const bool hard = config.loss == LossKind::kBatchHard &&
                          meta.step >= config.hard_mining_after;
        loss = hard ? BatchHardLoss(e, labels, config.margin)
                    : BatchAllLoss(e, labels, config.margin);
        spread = PairwiseDistances(e.detach()).mean().item<double>();
      }
      if (config.softmax_weight > 0) {
        loss = loss + config.softmax_weight *
                          NormSoftmaxLoss(model->ProxyCosines(e), labels, config.softmax_scale);
      }
      loss.backward();
      if (config.clip_norm > 0) {
        torch::nn::utils::clip_grad_norm_(model->parameters(), config.clip_norm);
      }
      optimizer.step();
      loss_value = loss.item<double>();
    } catch (const c10::Error& e) {
      return absl::InternalError(absl::StrCat("training step ", meta.step, " failed: ",
                                              e.what_without_backtrace()));
    }
    result.batch_digests.push_back(b.digest());
    ++meta.step;
    meta.next_index = b.index() + 1;
    result.triplets += anchors;
    interval_triplets += anchors;
    loss_sum += loss_value;
    ++loss_count;
    result.final_loss = loss_value;
    const double step_s = Since(step_start);
    stall.AddStep(wait_s, step_s);
    if (config.live_metrics != nullptr) {
      config.live_metrics->RecordStep(meta.step, step_s, wait_s, loss_value);
      const int64_t reconnects = received_so_far();
      config.live_metrics->RecordReceived(received_from, received, reconnects);
    }
    if (spread >= 0) {
      // Unit-norm embeddings of different users sit ~1.4 apart when spread;
      // near 0 means every window maps to the same point.
      collapsed_steps = spread < 0.05 ? collapsed_steps + 1 : 0;
      if (collapsed_steps == 50) {
        LOG(WARNING) << "embeddings collapsed (mean pairwise distance " << spread
                     << " for 50 steps, loss " << loss_value << " ~ margin " << config.margin
                     << "); try --loss=batch_all, a larger --hard_mining_after or a lower --lr";
      }
      spread_sum += spread;
    }

    if (config.log_every > 0 && meta.step % config.log_every == 0) {
      const double dt = Since(interval_start);
      const double rate = interval_triplets / std::max(dt, 1e-9);
      const double elapsed = Since(started);
      const int64_t done = meta.step;
      const double eta = result.triplets > 0
          ? elapsed / std::max<int64_t>(1, done) * (config.steps - done) : 0;
      const std::string line = absl::StrFormat(
          "epoch %d step %d/%d loss %.4f lr %.2e triplets/s %.0f data-stall %.1f%% ETA %.0fs",
          meta.epoch, meta.step, config.steps, loss_sum / loss_count, lr, rate,
          stall.interval_pct(), eta);
      std::printf("%s\n", line.c_str());
      std::fflush(stdout);
      metrics.Write(absl::StrFormat(
          "{\"step\": %d, \"epoch\": %d, \"loss\": %.6f, \"lr\": %.6g, \"triplets_per_s\": "
          "%.1f, \"data_stall_pct\": %.3f, \"embedding_spread\": %.4f}",
          meta.step, meta.epoch, loss_sum / loss_count, lr, rate, stall.interval_pct(),
          spread_sum / loss_count));
      spread_sum = 0;
      stall.ResetInterval();
      interval_start = Clock::now();
      interval_triplets = 0;
      loss_sum = 0;
      loss_count = 0;
    }
    if (config.checkpoint_every > 0 && meta.step % config.checkpoint_every == 0) {
      if (absl::Status s = save(); !s.ok()) return s;
    }
    if (config.eval_every > 0 && meta.step % config.eval_every == 0) {
      auto report = evaluate();
      if (!report.ok()) return report.status();
      log_eval(*report, meta.step);
      model->train();
    }
  }
  receiver->Stop();
  for (uint64_t d : result.batch_digests) {
    result.stream_digest = CombineDigest(result.stream_digest, d);
  }
  result.reconnects = received_so_far();
  result.servers = received_from;
  result.batches_per_server = received;
  result.steps = meta.step;
  result.seconds = Since(started);
  result.triplets_per_s = result.triplets / std::max(stall.total_step_seconds(), 1e-9);
  result.data_stall_pct = stall.total_pct();
  if (config.eval_at_end && !result.interrupted) {
    auto report = evaluate();
    if (!report.ok()) return report.status();
    log_eval(*report, meta.step);
    if (report->has_open_set) {
      result.eer_pct = report->open_set.eer_pct;
      result.top1_pct = report->open_set.top1_pct;
      meta.eer_threshold = report->open_set.threshold;
    }
    if (report->has_cross_session) {
      result.cross_eer_pct = report->cross_session.eer_pct;
      result.cross_top1_pct = report->cross_session.top1_pct;
      if (!report->has_open_set) {
        result.eer_pct = result.cross_eer_pct;
        result.top1_pct = result.cross_top1_pct;
        meta.eer_threshold = report->cross_session.threshold;
      }
    }
  }
  if (absl::Status s = save(); !s.ok()) return s;
  return result;
}

}  // namespace tripletstream
