// tripletstream-trainer: trains a TCN embedding with triplet loss on batches
// streamed from tripletstream data servers.
//   tripletstream-trainer train --servers=HOST:PORT[,...] --device=cpu ...
#include <glog/logging.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cmath>
#include <tuple>
#include <cstdlib>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "client/server_list.h"
#include "common/program_init.h"
#include "metrics/metrics_http_server.h"
#include "metrics/metrics_registry.h"
#include "trainer/distributed.h"
#include "trainer/inference.h"
#include "trainer/template_file.h"
#include "trainer/trainer_metrics.h"
#include "trainer/training.h"

ABSL_FLAG(std::string, servers, "127.0.0.1:50051",
          "Comma separated data servers; file:PATH lists HOST:PORT lines (re-read like a name); "
          "dns:///HOST:PORT expands to every address HOST "
          "resolves to (e.g. a Kubernetes headless Service), re-resolved every epoch and "
          "every --resolve_interval_s.");
ABSL_FLAG(double, resolve_interval_s, 30,
          "Re-resolve --servers every this many seconds within an epoch and re-split the "
          "rest of it over the addresses found, so servers an autoscaler adds serve within "
          "this bound (exactly once still); 0 = only at epoch boundaries.");
ABSL_FLAG(double, stall_timeout_s, 30,
          "A data server that sends no batch for this long (frozen, overloaded) is "
          "failed over like a dead one; 0 = wait forever.");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM CA the data servers' certificates chain to: connect over TLS. Default: "
          "plaintext.");
ABSL_FLAG(std::string, tls_cert, "", "PEM client certificate for mutual TLS (with --tls_key).");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert.");
ABSL_FLAG(double, give_up_after_s, 60,
          "Fail (exit 1) when no server delivered a shard for this long.");
ABSL_FLAG(std::string, device, "cpu",
          "cpu, cuda or cuda:N (data-parallel ranks with LOCAL_RANK use cuda:LOCAL_RANK).");
ABSL_FLAG(std::string, amp, "off",
          "train: mixed precision of the forward pass on CUDA: off or bf16 (autocast to "
          "bfloat16, losses in float32; no gradient scaler needed).");
ABSL_FLAG(std::string, checkpoint_dir, "", "Folder for checkpoint.pt (empty: none).");
ABSL_FLAG(bool, resume, false, "Continue from checkpoint_dir/checkpoint.pt if present.");
ABSL_FLAG(int64_t, steps, 0,
          "Total optimizer steps (a resumed run counts earlier ones); 0 = 1000, or no step "
          "limit when --minutes is given (a pure time budget).");
ABSL_FLAG(double, minutes, 0, "Wall-clock budget in minutes; 0 = steps only.");
ABSL_FLAG(int64_t, stop_after, 0,
          "Stop after this many steps in this process (checkpoint kept, resume later); "
          "0 = off.");
ABSL_FLAG(std::string, loss, "triplet", "triplet, batch_hard or batch_all (the last two "
          "ask the servers for P x K batches).");
ABSL_FLAG(int, batch_size, 64, "Triplets per batch (loss=triplet).");
ABSL_FLAG(int, p, 16, "Users per P x K batch.");
ABSL_FLAG(int, k, 4, "Windows per user in a P x K batch.");
ABSL_FLAG(bool, positive_other_session, false,
          "Ask for positives from another session of the anchor's user.");
ABSL_FLAG(double, margin, 0.5, "Triplet margin.");
ABSL_FLAG(int64_t, hard_mining_after, 300,
          "loss=batch_hard: use batch-all before this step (guards against collapse).");
ABSL_FLAG(double, softmax_weight, 0,
          "Weight of an added normalized-softmax loss over the training users (learned "
          "per-user proxies, cosine logits); 0 = off.");
ABSL_FLAG(double, softmax_scale, 16, "Scale of the normalized-softmax logits.");
ABSL_FLAG(double, lr, 1e-3, "Peak learning rate (AdamW).");
ABSL_FLAG(double, weight_decay, 1e-4, "AdamW weight decay.");
ABSL_FLAG(int64_t, warmup_steps, 100, "Linear warm-up steps before cosine decay.");
ABSL_FLAG(double, ema, 0,
          "Evaluate (and select) an exponential moving average of the weights with this "
          "decay per step, e.g. 0.99; 0 = the trained weights.");
ABSL_FLAG(double, clip_norm, 5.0, "Gradient clipping norm; 0 = off.");
ABSL_FLAG(uint64_t, seed, 1, "Seed of the model initialization and of the batch stream.");
ABSL_FLAG(int, channels, 64, "TCN block width.");
ABSL_FLAG(int, levels, 5, "TCN residual blocks (dilation 2^i).");
ABSL_FLAG(int, kernel_size, 3, "TCN kernel size.");
ABSL_FLAG(double, dropout, 0.1, "TCN dropout.");
ABSL_FLAG(int, embedding, 128, "Embedding size.");
ABSL_FLAG(bool, weight_norm, false, "Weight-normalized convolutions.");
ABSL_FLAG(std::string, pooling, "mean",
          "Pooling over time before the embedding head: mean, or stats (mean and "
          "standard deviation of each channel).");
ABSL_FLAG(int64_t, log_every, 50, "Steps between progress lines.");
ABSL_FLAG(int64_t, eval_every, -1,
          "Steps between evaluations (each one also selects the model on validation users); "
          "0 = at the end only; -1 = every 250 steps when the servers hold validation users, "
          "else at the end only.");
ABSL_FLAG(int64_t, checkpoint_every, 500, "Steps between checkpoints.");
ABSL_FLAG(bool, eval, true, "Evaluate (EER, top-1) before and after training.");
ABSL_FLAG(std::string, metrics, "", "Append JSON-lines metrics to this file.");
ABSL_FLAG(std::string, session_groups, "",
          "Also score per session group: ';'-separated entries, each an RE2 on session "
          "names whose first capture group names the group (e.g. '([a-z]+)_.*' for "
          "MotionSense activities) or NAME=RE2 (e.g. 'moving=(wlk|jog|ups|dws)_.*').");
ABSL_FLAG(bool, group_templates, false,
          "With --session_groups: enroll one template per user and group (the first entry "
          "naming a group for a session) and score each probe against its own group's "
          "templates; reported as 'own-group templates' beside the pooled scores.");
ABSL_FLAG(std::string, enroll_sessions, "",
          "Open-set evaluation: RE2 full match on session names that enroll (the rest "
          "probe), e.g. '.*_[1-9]'; empty = first half of each test user's sessions.");
ABSL_FLAG(int, metrics_port, 0,
          "train: port of the Prometheus endpoint (GET /metrics); 0 = off, -1 = any free "
          "port (logged).");
ABSL_FLAG(std::string, metrics_host, "0.0.0.0", "train: address the metrics endpoint binds.");
ABSL_FLAG(int, prefetch, 4, "Batches buffered per server shard.");
ABSL_FLAG(int, torch_threads, 0, "LibTorch intra-op threads; 0 = all cores.");
// Data-parallel training (docs/trainer.md, "Several trainer ranks").
ABSL_FLAG(int, rank, -1, "train: this process's rank; -1 = $RANK, else 0.");
ABSL_FLAG(int, world_size, -1,
          "train: number of trainer ranks sharing one model; -1 = $WORLD_SIZE, else 1.");
ABSL_FLAG(std::string, master_addr, "",
          "train: host where rank 0 runs the rendezvous store; empty = $MASTER_ADDR, else "
          "127.0.0.1.");
ABSL_FLAG(int, master_port, -1, "train: rendezvous store port; -1 = $MASTER_PORT, else 29500.");
ABSL_FLAG(double, collective_timeout_s, 300,
          "train: rendezvous and each gradient all-reduce fail after this long, so a rank that "
          "dies or freezes ends every rank (exit 1) instead of hanging; must exceed rank 0's "
          "evaluation time.");
ABSL_FLAG(std::string, collective_backend, "auto",
          "train: c10d backend for the gradient all-reduce: auto (NCCL on CUDA where this "
          "build has it, else Gloo), gloo or nccl.");
// embed / enroll / verify
ABSL_FLAG(std::string, checkpoint, "", "embed/enroll/verify: checkpoint.pt written by train.");
ABSL_FLAG(std::string, input, "", "embed/enroll/verify: comma separated raw CSV files.");
ABSL_FLAG(std::string, output, "", "embed: CSV of embeddings (default: stdout).");
ABSL_FLAG(std::string, user, "", "enroll: the user's name.");
ABSL_FLAG(std::string, template_file, "",
          "enroll: template file to write (or add a --group to); verify: to read.");
ABSL_FLAG(std::string, group, "",
          "enroll: store the template as this group (e.g. an activity) beside the user's "
          "others in --template_file; verify: score against this group's template. Empty = "
          "the pooled template.");
ABSL_FLAG(double, threshold, -2,
          "verify: accept when the score is >= this; default: the EER threshold stored in "
          "the checkpoint by its evaluation, the --group's own where it has one (trained "
          "with --session_groups), else the pooled one.");
ABSL_FLAG(int, stride, 0, "embed/enroll/verify: window stride; 0 = half a window.");

namespace tripletstream {
namespace {

sigset_t ShutdownSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  return signals;
}

int Fail(const absl::Status& status) {
  std::cerr << "tripletstream-trainer: " << status.message() << "\n";
  return status.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
}

// LibTorch allocates and frees activations of several MB every step. With
// glibc's defaults those are mmap'ed and unmapped (or the heap trimmed) each
// time, so every step page-faults them in again: about a fifth of a CPU step
// here (docs/benchmarks.md). Keep freed memory for reuse instead: no mmap
// below 32 MiB, no trimming below 1 GiB of free heap (resident memory stays
// at the peak of a step). MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ in
// the environment take precedence.
void KeepFreedMemoryForReuse() {
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") == nullptr) mallopt(M_MMAP_THRESHOLD, 32 << 20);
  if (std::getenv("MALLOC_TRIM_THRESHOLD_") == nullptr) mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

// INVALID_ARGUMENT naming the first flag of `c` out of range.
absl::Status CheckTrainConfig(const TrainConfig& c) {
  if (c.eval_every < -1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--eval_every must be >= 0, or -1 for auto; got ", c.eval_every));
  }
  if (!(c.stall_timeout_s >= 0) || !(c.give_up_after_s >= 0) || !(c.resolve_interval_s >= 0)) {
    return absl::InvalidArgumentError(
        "--stall_timeout_s, --give_up_after_s and --resolve_interval_s must be >= 0");
  }
  if (!(c.softmax_weight >= 0) || !(c.softmax_scale > 0) || !std::isfinite(c.softmax_weight) ||
      !std::isfinite(c.softmax_scale)) {
    return absl::InvalidArgumentError(
        "--softmax_weight must be finite and >= 0, --softmax_scale finite and > 0");
  }
  if (c.steps < 1 || c.model.channels < 1 || c.model.levels < 1 || c.model.kernel_size < 1 ||
      c.model.embedding < 1 || c.batch_size < 1 || c.prefetch_per_shard < 1) {
    return absl::InvalidArgumentError(
        "--steps, --channels, --levels, --kernel_size, --embedding, --batch_size and "
        "--prefetch must be >= 1");
  }
  // NaN fails every comparison: these also reject nan and inf.
  for (const auto& [name, value, minimum, inclusive] :
       {std::tuple{"--lr", c.lr, 0.0, false}, std::tuple{"--weight_decay", c.weight_decay, 0.0, true},
        std::tuple{"--margin", c.margin, 0.0, true}, std::tuple{"--clip_norm", c.clip_norm, 0.0, true},
        std::tuple{"--minutes", c.minutes, 0.0, true}}) {
    if (!std::isfinite(value) || value < minimum || (!inclusive && value == minimum)) {
      return absl::InvalidArgumentError(absl::StrCat(name, " must be a finite number ",
                                                     inclusive ? ">= " : "> ", minimum,
                                                     ", got ", value));
    }
  }
  if (c.amp != "off" && c.amp != "bf16") {
    return absl::InvalidArgumentError(absl::StrCat(
        "--amp must be off or bf16, got '", c.amp, "' (fp16 would need a gradient scaler)"));
  }
  if (c.amp != "off" && !absl::StartsWith(c.device, "cuda")) {
    return absl::InvalidArgumentError("--amp=bf16 needs --device=cuda");
  }
  if (!(c.model.dropout >= 0 && c.model.dropout < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--dropout must be in [0, 1), got ", c.model.dropout));
  }
  return ValidateTlsFiles(c.tls, "--tls_");
}

absl::StatusOr<LossKind> LossFromFlag(const std::string& loss) {
  if (loss == "triplet") return LossKind::kTriplet;
  if (loss == "batch_hard") return LossKind::kBatchHard;
  if (loss == "batch_all") return LossKind::kBatchAll;
  return absl::InvalidArgumentError("--loss must be triplet, batch_hard or batch_all");
}

// The `train` flags as a TrainConfig; INVALID_ARGUMENT names a bad flag.
absl::StatusOr<TrainConfig> TrainConfigFromFlags() {
  TrainConfig c;
  c.servers = SplitServerList(absl::GetFlag(FLAGS_servers));
  c.stall_timeout_s = absl::GetFlag(FLAGS_stall_timeout_s);
  c.resolve_interval_s = absl::GetFlag(FLAGS_resolve_interval_s);
  c.give_up_after_s = absl::GetFlag(FLAGS_give_up_after_s);
  c.tls = {absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key),
           absl::GetFlag(FLAGS_tls_ca)};
  c.device = absl::GetFlag(FLAGS_device);
  c.amp = absl::GetFlag(FLAGS_amp);
  c.checkpoint_dir = absl::GetFlag(FLAGS_checkpoint_dir);
  c.resume = absl::GetFlag(FLAGS_resume);
  c.steps = absl::GetFlag(FLAGS_steps);
  if (c.steps == 0) c.steps = absl::GetFlag(FLAGS_minutes) > 0 ? kNoStepLimit : 1000;
  c.minutes = absl::GetFlag(FLAGS_minutes);
  c.max_steps_this_run = absl::GetFlag(FLAGS_stop_after);
  absl::StatusOr<LossKind> loss = LossFromFlag(absl::GetFlag(FLAGS_loss));
  if (!loss.ok()) return loss.status();
  c.loss = *loss;
  c.batch_size = absl::GetFlag(FLAGS_batch_size);
  c.p = absl::GetFlag(FLAGS_p);
  c.k = absl::GetFlag(FLAGS_k);
  c.positive_other_session = absl::GetFlag(FLAGS_positive_other_session);
  c.margin = absl::GetFlag(FLAGS_margin);
  c.hard_mining_after = absl::GetFlag(FLAGS_hard_mining_after);
  c.softmax_weight = absl::GetFlag(FLAGS_softmax_weight);
  c.softmax_scale = absl::GetFlag(FLAGS_softmax_scale);
  c.lr = absl::GetFlag(FLAGS_lr);
  c.weight_decay = absl::GetFlag(FLAGS_weight_decay);
  c.warmup_steps = absl::GetFlag(FLAGS_warmup_steps);
  c.clip_norm = absl::GetFlag(FLAGS_clip_norm);
  c.seed = absl::GetFlag(FLAGS_seed);
  c.model.channels = absl::GetFlag(FLAGS_channels);
  c.model.levels = absl::GetFlag(FLAGS_levels);
  c.model.kernel_size = absl::GetFlag(FLAGS_kernel_size);
  c.model.dropout = absl::GetFlag(FLAGS_dropout);
  c.model.embedding = absl::GetFlag(FLAGS_embedding);
  c.model.weight_norm = absl::GetFlag(FLAGS_weight_norm);
  const std::string pooling = absl::GetFlag(FLAGS_pooling);
  if (pooling != "mean" && pooling != "stats") {
    return absl::InvalidArgumentError(
        absl::StrCat("--pooling must be mean or stats, got '", pooling, "'"));
  }
  c.model.stats_pooling = pooling == "stats";
  c.log_every = absl::GetFlag(FLAGS_log_every);
  c.eval_every = absl::GetFlag(FLAGS_eval_every);
  c.ema_decay = absl::GetFlag(FLAGS_ema);
  if (!(c.ema_decay >= 0 && c.ema_decay < 1)) {
    return absl::InvalidArgumentError(absl::StrCat("--ema must be in [0, 1), got ", c.ema_decay));
  }
  c.checkpoint_every = absl::GetFlag(FLAGS_checkpoint_every);
  c.eval_at_end = absl::GetFlag(FLAGS_eval);
  c.metrics_path = absl::GetFlag(FLAGS_metrics);
  c.enroll_sessions = absl::GetFlag(FLAGS_enroll_sessions);
  c.session_groups_spec = absl::GetFlag(FLAGS_session_groups);
  c.group_templates = absl::GetFlag(FLAGS_group_templates);
  c.prefetch_per_shard = absl::GetFlag(FLAGS_prefetch);
  c.torch_threads = absl::GetFlag(FLAGS_torch_threads);
  auto distributed = ResolveDistributedConfig(
      {absl::GetFlag(FLAGS_rank), absl::GetFlag(FLAGS_world_size),
       absl::GetFlag(FLAGS_master_addr), absl::GetFlag(FLAGS_master_port),
       absl::GetFlag(FLAGS_collective_timeout_s)},
      [](const char* name) { return std::getenv(name); });
  if (!distributed.ok()) return distributed.status();
  c.distributed = *distributed;
  // One CUDA device per local rank, as torchrun lays processes out.
  const int local_rank = LocalRankFromEnvironment([](const char* name) { return std::getenv(name); });
  if (c.device == "cuda" && c.distributed.enabled() && local_rank >= 0) {
    c.device = absl::StrCat("cuda:", local_rank);
  }
  if (c.distributed.enabled()) {
    auto backend = ResolveCollectiveBackend(absl::GetFlag(FLAGS_collective_backend), c.device,
                                            NcclBuilt());
    if (!backend.ok()) return backend.status();
    c.distributed.backend = *backend;
  }
  if (absl::Status s = CheckTrainConfig(c); !s.ok()) return s;
  return c;
}

// SIGTERM/SIGINT (blocked in every thread, see main) stop training after
// the current step with a checkpoint, so a rescheduled pod resumes; a
// trainer waiting for data is woken at once.
// A second signal exits at once (a run stuck fetching evaluation windows
// from frozen servers can still be ended). The signal received, for the exit code.
std::atomic<int> received_signal{0};

StopSignal* StopOnShutdownSignal() {
  static StopSignal stop;
  std::thread([] {
    sigset_t signals = ShutdownSignals();
    for (int count = 0;; ++count) {
      int sig = 0;
      if (sigwait(&signals, &sig) != 0) return;
      const char* name = sig == SIGTERM ? "SIGTERM" : "SIGINT";
      if (count > 0) {
        LOG(ERROR) << "second " << name << ": exiting without a checkpoint";
        std::_Exit(128 + sig);
      }
      received_signal = sig;
      LOG(WARNING) << "received " << name
                   << ": stopping after this step (again to exit at once)";
      stop.Request();
    }
  }).detach();
  return &stop;
}

void PrintResult(const TrainResult& r);

int RunTrain() {
  KeepFreedMemoryForReuse();
  absl::StatusOr<TrainConfig> config = TrainConfigFromFlags();
  if (!config.ok()) return Fail(config.status());
  const TrainConfig& c = *config;
  TrainCollaborators with;
  MetricsRegistry registry;
  TrainerMetrics live;
  std::unique_ptr<MetricsHttpServer> metrics_server;
  if (absl::GetFlag(FLAGS_metrics_port) != 0) {
    absl::Status registered =
        live.Register(&registry, c.distributed.enabled() ? c.distributed.rank : -1);
    auto started = StartMetricsEndpoint(absl::GetFlag(FLAGS_metrics_host),
                                        absl::GetFlag(FLAGS_metrics_port), &registry);
    if (!registered.ok() || !started.ok()) {
      return Fail(registered.ok() ? started.status() : registered);
    }
    metrics_server = *std::move(started);
    with.live_metrics = &live;
  }
  with.stop = StopOnShutdownSignal();
  absl::StatusOr<TrainResult> result = Train(c, with);
  if (!result.ok()) {
    LOG(ERROR) << result.status();
    std::cerr << "tripletstream-trainer: " << result.status().message() << "\n";
    // 2: the run cannot succeed as configured (bad flags, a checkpoint of
    // another dataset or model); 1: worth retrying (servers unreachable, ...).
    const absl::StatusCode code = result.status().code();
    return code == absl::StatusCode::kInvalidArgument ||
                   code == absl::StatusCode::kFailedPrecondition
               ? 2
               : 1;
  }
  PrintResult(*result);
  if (result->interrupted) {
    std::printf("interrupted=1\n");
    // Not success: a Job restarts the pod, which resumes. 143 for SIGTERM.
    return 128 + (received_signal.load() != 0 ? received_signal.load() : SIGTERM);
  }
  return 0;
}

// The machine-readable last line of a run.
void PrintResult(const TrainResult& r) {
  std::printf(
      "steps=%lld triplets=%lld seconds=%.1f triplets_per_s=%.0f data_stall_pct=%.2f "
      "loss=%.4f initial_eer_pct=%.2f eer_pct=%.2f top1_pct=%.2f cross_eer_pct=%.2f "
      "cross_top1_pct=%.2f reconnects=%lld per_server=%s digest=%016llx checkpoint=%s%s%s\n",
      static_cast<long long>(r.steps), static_cast<long long>(r.triplets), r.seconds,
      r.triplets_per_s, r.data_stall_pct, r.final_loss, r.initial_eer_pct, r.eer_pct,
      r.top1_pct, r.cross_eer_pct, r.cross_top1_pct, static_cast<long long>(r.reconnects),
      absl::StrJoin(r.batches_per_server, "/").c_str(),
      static_cast<unsigned long long>(r.stream_digest),
      r.checkpoint.empty() ? "none" : r.checkpoint.c_str(),
      r.selected_step >= 0
          ? absl::StrFormat(" selected_step=%d selected_val_eer_pct=%.2f last_eer_pct=%.2f",
                            r.selected_step, r.selected_val_eer_pct, r.last_eer_pct)
                .c_str()
          : "",
      // Data-parallel runs: this rank, the all-reduce share and the digest of
      // every rank's batches in global order (a single trainer's digest=).
      r.world_size > 1
          ? absl::StrFormat(" rank=%d world_size=%d allreduce_pct=%.2f union_digest=%016x",
                            r.rank, r.world_size, r.allreduce_pct, r.union_digest)
                .c_str()
          : "");
}

// Loads the checkpoint and embeds the --input files' windows.
struct Embedded {
  LoadedModel model;
  WindowSet windows;
  std::vector<float> embeddings;
};

absl::StatusOr<Embedded> EmbedInput() {
  if (absl::GetFlag(FLAGS_checkpoint).empty() || absl::GetFlag(FLAGS_input).empty()) {
    return absl::InvalidArgumentError("--checkpoint and --input are required");
  }
  auto model = LoadModel(absl::GetFlag(FLAGS_checkpoint));
  if (!model.ok()) return model.status();
  std::vector<std::string> files =
      absl::StrSplit(absl::GetFlag(FLAGS_input), ',', absl::SkipEmpty());
  int stride = absl::GetFlag(FLAGS_stride);
  if (stride == 0) stride = std::max<int>(1, model->meta.window_length / 2);
  auto windows = WindowsFromCsv(files, model->meta, stride);
  if (!windows.ok()) return windows.status();
  Embedded out;
  out.embeddings = Embed(model->model, torch::kCPU, *windows);
  out.model = *std::move(model);
  out.windows = *std::move(windows);
  return out;
}

int RunEmbed() {
  auto e = EmbedInput();
  if (!e.ok()) return Fail(e.status());
  std::vector<std::string> files =
      absl::StrSplit(absl::GetFlag(FLAGS_input), ',', absl::SkipEmpty());
  const int dim = static_cast<int>(e->model.model->options().embedding);
  std::ofstream file;
  if (!absl::GetFlag(FLAGS_output).empty()) file.open(absl::GetFlag(FLAGS_output));
  std::ostream& out = file.is_open() ? file : std::cout;
  int stride = absl::GetFlag(FLAGS_stride);
  if (stride == 0) stride = std::max<int>(1, e->model.meta.window_length / 2);
  std::vector<int64_t> offset_in_file(files.size(), 0);
  for (int64_t i = 0; i < e->windows.size(); ++i) {
    const int32_t f = e->windows.sessions[i];
    out << files[f] << "," << offset_in_file[f];
    offset_in_file[f] += stride;
    for (int d = 0; d < dim; ++d) out << "," << e->embeddings[i * dim + d];
    out << "\n";
  }
  if (!out) return Fail(absl::UnavailableError("cannot write the embeddings"));
  std::cerr << "embedded " << e->windows.size() << " windows of " << files.size()
            << " file(s)\n";
  return 0;
}

int RunEnroll() {
  auto e = EmbedInput();
  if (!e.ok()) return Fail(e.status());
  if (absl::GetFlag(FLAGS_template_file).empty()) {
    return Fail(absl::InvalidArgumentError("--template_file is required"));
  }
  const int dim = static_cast<int>(e->model.model->options().embedding);
  const std::string group = absl::GetFlag(FLAGS_group);
  absl::Status s = EnrollTemplate(absl::GetFlag(FLAGS_template_file), absl::GetFlag(FLAGS_user),
                                  e->model.meta.fingerprint, e->model.meta.model_config, group,
                                  MeanTemplate(e->embeddings, dim));
  if (!s.ok()) return Fail(s);
  std::printf("user=%s group=%s windows=%lld template=%s\n", absl::GetFlag(FLAGS_user).c_str(),
              group.empty() ? kPooledGroup : group.c_str(),
              static_cast<long long>(e->windows.size()),
              absl::GetFlag(FLAGS_template_file).c_str());
  return 0;
}

int RunVerify() {
  if (absl::GetFlag(FLAGS_template_file).empty()) {
    return Fail(absl::InvalidArgumentError("--template_file is required"));
  }
  auto t = ReadTemplate(absl::GetFlag(FLAGS_template_file));
  if (!t.ok()) return Fail(t.status());
  const std::string group = absl::GetFlag(FLAGS_group);
  auto values = t->For(group);
  if (!values.ok()) return Fail(values.status());
  auto e = EmbedInput();
  if (!e.ok()) return Fail(e.status());
  if (t->model_config != e->model.meta.model_config ||
      t->fingerprint != e->model.meta.fingerprint) {
    return Fail(absl::FailedPreconditionError(absl::StrCat(
        absl::GetFlag(FLAGS_template_file), " was enrolled with another checkpoint")));
  }
  const int dim = static_cast<int>(e->model.model->options().embedding);
  const std::vector<float>& reference = **values;
  if (static_cast<int>(reference.size()) != dim) {
    return Fail(absl::InvalidArgumentError("template size does not match the model"));
  }
  // One decision over every window of the input: the mean of the
  // per-window cosine scores, the scale the EER threshold is on.
  double score = 0;
  for (int64_t i = 0; i < e->windows.size(); ++i) {
    double s = 0;
    for (int d = 0; d < dim; ++d) s += e->embeddings[i * dim + d] * reference[d];
    score += s;
  }
  score /= std::max<int64_t>(1, e->windows.size());
  std::string source;
  const double threshold =
      AcceptThreshold(e->model.meta, group, absl::GetFlag(FLAGS_threshold), &source);
  std::printf(
      "user=%s group=%s windows=%lld score=%.4f threshold=%.4f threshold_from=%s decision=%s\n",
      t->user.c_str(), group.empty() ? kPooledGroup : group.c_str(),
      static_cast<long long>(e->windows.size()), score, threshold, source.c_str(),
      score >= threshold ? "accept" : "reject");
  return 0;
}

}  // namespace
}  // namespace tripletstream

int main(int argc, char** argv) {
  std::vector<char*> positional = tripletstream::InitProgram(argc, argv,
      "Trains a TCN embedding with triplet loss from tripletstream data servers.\n"
      "  tripletstream-trainer train --servers=HOST:PORT[,...] [--device=cpu|cuda]\n"
      "      [--checkpoint_dir=DIR [--resume]] [--steps=N | --minutes=M] ...\n"
      "  tripletstream-trainer embed --checkpoint=F --input=a.csv[,b.csv] [--output=F]\n"
      "  tripletstream-trainer enroll --checkpoint=F --input=CSVS --user=NAME "
      "--template_file=F\n"
      "  tripletstream-trainer verify --checkpoint=F --input=CSV --template_file=F "
      "[--threshold=T]\n"
      "train's last line is key=value pairs: steps= triplets_per_s= data_stall_pct= "
      "eer_pct= top1_pct=");
  const std::string command = positional.size() > 1 ? positional[1] : "";
  if (command == "train") {
    sigset_t signals = tripletstream::ShutdownSignals();
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // Before any thread starts.
    return tripletstream::RunTrain();
  }
  if (command == "embed") return tripletstream::RunEmbed();
  if (command == "enroll") return tripletstream::RunEnroll();
  if (command == "verify") return tripletstream::RunVerify();
  std::cerr << "tripletstream-trainer: expected a command: train, embed, enroll or verify"
            << (command.empty() ? "" : " (got '" + command + "')") << "; see --help\n";
  return 2;
}
