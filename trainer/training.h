#ifndef TRIPLETSTREAM_TRAINER_TRAINING_H_
#define TRIPLETSTREAM_TRAINER_TRAINING_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/server_list.h"
#include "common/tls_files.h"
#include "trainer/distributed_config.h"
#include "trainer/stop_signal.h"
#include "trainer/tcn.h"

namespace tripletstream {

class TrainerMetrics;

enum class LossKind { kTriplet, kBatchHard, kBatchAll };

// TrainConfig::steps for a run bounded by `minutes` alone.
inline constexpr int64_t kNoStepLimit = int64_t{1} << 50;

struct TrainConfig {
  std::vector<std::string> servers;
  std::string device = "cpu";     // cpu, cuda or cuda:N.
  std::string amp = "off";        // off or bf16 (CUDA): autocast of the forward pass.
  std::string checkpoint_dir;     // Holds checkpoint.pt; empty = no checkpoints.
  bool resume = false;
  int64_t steps = 1000;           // Step budget (total, including resumed steps).
  double minutes = 0;             // Wall-clock budget; 0 = none.
  int64_t max_steps_this_run = 0; // Stop (and checkpoint) after this many steps; 0 = off.
  LossKind loss = LossKind::kTriplet;  // kTriplet needs triplet batches, others P x K.
  int batch_size = 64;            // Triplets per batch (kTriplet).
  int p = 16, k = 4;              // P x K batches (batch-hard / batch-all).
  bool positive_other_session = false;
  double margin = 0.5;
  int64_t hard_mining_after = 300;  // Batch-hard: batch-all before this step.
  // Weight of an added normalized-softmax loss over user labels (learned
  // proxies per user, cosine logits times softmax_scale); 0 = off.
  double softmax_weight = 0;
  double softmax_scale = 16;
  double lr = 1e-3;
  double weight_decay = 1e-4;     // AdamW.
  int64_t warmup_steps = 100;
  double clip_norm = 5.0;         // 0 = no clipping.
  double ema_decay = 0;           // Evaluate an average of the weights (WeightAverage); 0 = off.
  uint64_t seed = 1;
  TcnOptions model;               // in_channels is taken from the server.
  int64_t log_every = 50;
  // Steps between evaluations; 0 = only at the end; -1 = every 250 steps
  // when the servers hold validation users (model selection), else 0.
  int64_t eval_every = 0;
  int64_t checkpoint_every = 500;
  bool eval_at_end = true;
  std::string metrics_path;       // JSON lines; empty = none.
  // Open-set protocol: RE2 full match on session names that enroll (the
  // others probe); empty = first half of each test user's sessions.
  std::string enroll_sessions;
  // Scores are also broken down by session group: a --session_groups spec
  // (trainer/session_groups.h, e.g. "([a-z]+)_.*;moving=(wlk|jog)_.*");
  // empty = no breakdown.
  std::string session_groups_spec;
  // With groups: each user also enrolls one template per group (the first
  // entry naming a group for a session), and probes are scored against
  // their own group's templates (--group_templates).
  bool group_templates = false;
  int prefetch_per_shard = 4;
  // A data server that sends nothing for this long is failed over like a
  // dead one (client/ progress deadline); 0 = wait forever.
  double stall_timeout_s = 30;
  // Re-resolve the servers within an epoch this often (client/ BatchStream).
  double resolve_interval_s = 30;
  double give_up_after_s = 60;    // No server delivered for this long: fail.
  TlsFiles tls;                   // TLS to the servers; plaintext when empty.
  int torch_threads = 0;          // Intra-op threads; 0 = hardware concurrency.
  DistributedConfig distributed;
};

// What a run talks to, as opposed to what it is configured with. All optional.
struct TrainCollaborators {
  // Turns `servers` into addresses, at start and at every epoch boundary
  // (so dns:/// names follow scaling); null = ExpandServers. Tests inject
  // a changing answer here.
  ServerResolver resolve;
  TrainerMetrics* live_metrics = nullptr;  // Prometheus figures; not owned.
  // Requested (e.g. on SIGTERM): stop after the current step, or at once if
  // waiting for data; the run checkpoints without the final evaluation and
  // reports interrupted.
  StopSignal* stop = nullptr;
};

struct TrainResult {
  int64_t steps = 0;
  int64_t triplets = 0;          // Anchors trained on in this process.
  double seconds = 0;
  double triplets_per_s = 0;
  double data_stall_pct = 0;
  double final_loss = 0;
  double eer_pct = -1, top1_pct = -1;            // Open-set (or cross-session if none).
  double cross_eer_pct = -1, cross_top1_pct = -1;
  double initial_eer_pct = -1;                   // Before the first step (fresh runs).
  // Model selection (when the servers have validation users): the step
  // whose weights the figures above score (the lowest validation EER among
  // the --eval_every evaluations and the final one), and the last model's.
  int64_t selected_step = -1;
  double selected_val_eer_pct = -1;
  double last_eer_pct = -1, last_top1_pct = -1;
  std::vector<uint64_t> batch_digests;           // Digest of every batch trained on.
  // batch_digests chained with CombineDigest: for one epoch from index 0 it
  // equals tripletstream-probe's digest= of that epoch.
  uint64_t stream_digest = 0;
  std::vector<std::string> servers;              // Expanded --servers.
  std::vector<int64_t> batches_per_server;       // Received (incl. prefetched), per server.
  int64_t reconnects = 0;                        // Streams re-opened after a failure.
  std::string checkpoint;                        // Path written last.
  bool interrupted = false;                      // Stopped by stop_requested.
  int rank = 0, world_size = 1;
  // Share of step time spent waiting for gradient all-reduces (ranks > 1).
  double allreduce_pct = 0;
  // Data-parallel runs: every rank's batch digests in global batch order
  // (step by step, rank by rank), chained like stream_digest: equal to a
  // single trainer's stream_digest over the same batches. 0 for one rank.
  uint64_t union_digest = 0;
};

// Trains a TCN on batches streamed from the servers: see docs/trainer.md.
// FAILED_PRECONDITION / INVALID_ARGUMENT when the run cannot succeed as
// configured (including a loss that stops being finite); other errors may
// pass on a retry.
absl::StatusOr<TrainResult> Train(const TrainConfig& config,
                                  const TrainCollaborators& with = {});

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_TRAINER_TRAINING_H_
