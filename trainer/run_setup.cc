#include "trainer/run_setup.h"

#include <glog/logging.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/dataset_client.h"
#include "re2/re2.h"
#include "trainer/checkpoint_files.h"
#include "trainer/session_groups.h"

namespace tripletstream {
namespace {

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

absl::StatusOr<torch::Device> ChooseDevice(const std::string& device) {
  if (device != "cpu" && device != "cuda") {
    return absl::InvalidArgumentError(
        absl::StrCat("--device must be cpu or cuda, got '", device, "'"));
  }
  if (device == "cuda" && !torch::cuda::is_available()) {
    return absl::FailedPreconditionError(
        "--device=cuda but no CUDA device is visible (or this LibTorch has no CUDA); "
        "use --device=cpu");
  }
  return torch::Device(device == "cuda" ? torch::kCUDA : torch::kCPU);
}

CheckpointMeta MetaOf(const TrainConfig& config, const TcnOptions& options,
                      const v1::GetDatasetInfoResponse& info) {
  CheckpointMeta meta;
  meta.model_config = options.ToString();
  meta.fingerprint = info.fingerprint();
  meta.loss_config = LossConfig(config);
  meta.seed = config.seed;
  meta.window_length = info.window_length();
  meta.channel_names.assign(info.channel_names().begin(), info.channel_names().end());
  meta.norm_mean.assign(info.norm_mean().begin(), info.norm_mean().end());
  meta.norm_std.assign(info.norm_std().begin(), info.norm_std().end());
  return meta;
}

// Restores `run` from its checkpoint (or the previous one when the latest is
// damaged) when it belongs to this run. NOT_FOUND when there is none.
absl::Status Resume(TrainingRun* run) {
  auto verified = VerifiedCheckpointPath(run->checkpoint_path);
  if (!verified.ok()) return verified.status();
  const std::string& path = *verified;
  auto saved = ReadCheckpointMeta(path);
  if (!saved.ok()) return saved.status();
  if (saved->fingerprint != run->meta.fingerprint) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, " was trained on dataset ", saved->fingerprint, ", the servers have ",
        run->meta.fingerprint, " (different data or preprocessing)"));
  }
  if (saved->model_config != run->meta.model_config ||
      saved->loss_config != run->meta.loss_config) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, " has model [", saved->model_config, "] and run [", saved->loss_config,
        "]; the flags ask for [", run->meta.model_config, "] and [", run->meta.loss_config,
        "]"));
  }
  if (absl::Status s = LoadCheckpoint(path, run->model, run->optimizer.get()); !s.ok()) {
    return absl::FailedPreconditionError(s.message());  // Retrying cannot repair it.
  }
  if (absl::Status s = CheckFiniteParameters(run->model, path); !s.ok()) return s;
  run->meta.step = saved->step;
  run->meta.epoch = saved->epoch;
  run->meta.next_index = saved->next_index;
  LOG(INFO) << "resumed " << path << " at step " << saved->step << ", epoch " << saved->epoch
            << ", batch " << saved->next_index;
  return absl::OkStatus();
}

// Found at start rather than at the first checkpoint, hundreds of steps in.
absl::Status CheckWritableDirectory(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::string probe = dir + "/.tripletstream-write-test";
  std::FILE* f = ec ? nullptr : std::fopen(probe.c_str(), "w");
  if (f == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--checkpoint_dir ", dir, " is not a writable folder",
        ec ? absl::StrCat(": ", ec.message()) : ""));
  }
  std::fclose(f);
  std::remove(probe.c_str());
  return absl::OkStatus();
}

// Level i convolves with dilation 2^i; past the window a level only sees
// padding, and huge dilations exhaust memory before anything says why.
absl::Status CheckModelFitsTheWindow(const TcnOptions& options, int64_t window) {
  if (options.levels > 30 || (int64_t{1} << (options.levels - 1)) > window) {
    int max_levels = 1;
    while ((int64_t{1} << max_levels) <= window) ++max_levels;
    return absl::InvalidArgumentError(absl::StrCat(
        "--levels=", options.levels, ": the last level's dilation exceeds the window of ",
        window, " samples; use at most ", max_levels, " levels"));
  }
  return absl::OkStatus();
}

}  // namespace

ClientOptions ClientOptionsOf(const TrainConfig& config) {
  ClientOptions client;
  client.stall_timeout_s = config.stall_timeout_s;
  client.give_up_after_s = config.give_up_after_s;
  client.channel.tls = config.tls;
  return client;
}

absl::StatusOr<std::unique_ptr<TrainingRun>> PrepareRun(const TrainConfig& config,
                                                        const ServerResolver& resolve) {
  auto run = std::make_unique<TrainingRun>();
  auto servers = resolve(config.servers);
  if (!servers.ok()) return servers.status();
  if (servers->empty()) return absl::InvalidArgumentError("--servers is empty");
  run->servers = *std::move(servers);
  if (run->servers != config.servers) {
    LOG(INFO) << "servers: " << absl::StrJoin(run->servers, ", ");
  }
  auto device = ChooseDevice(config.device);
  if (!device.ok()) return device.status();
  run->device = *device;
  // Debian's LibTorch starts with one intra-op thread; use the cores.
  torch::set_num_threads(config.torch_threads > 0
                             ? config.torch_threads
                             : std::max(1u, std::thread::hardware_concurrency()));
  auto info = FetchDatasetInfo(run->servers, ClientOptionsOf(config));
  if (!info.ok()) return info.status();
  run->info = *std::move(info);

  TcnOptions options = config.model;
  options.in_channels = run->info.channel_names_size();
  if (absl::Status s = CheckModelFitsTheWindow(options, run->info.window_length()); !s.ok()) {
    return s;
  }
  // Proxies for every user the server knows (labels are global user ids).
  options.classes = config.softmax_weight > 0 ? run->info.user_names_size() : 0;
  torch::manual_seed(config.seed);
  run->model = Tcn(options);
  run->model->to(run->device);
  run->optimizer = std::make_unique<torch::optim::AdamW>(
      run->model->parameters(),
      torch::optim::AdamWOptions(config.lr).weight_decay(config.weight_decay));
  LOG(INFO) << "TCN " << options.ToString() << ", receptive field " << ReceptiveField(options)
            << " samples (window " << run->info.window_length() << "), "
            << options.in_channels << " channels, device " << config.device << ", "
            << torch::get_num_threads() << " threads";
  run->meta = MetaOf(config, options, run->info);
  if (!config.checkpoint_dir.empty()) {
    if (absl::Status s = CheckWritableDirectory(config.checkpoint_dir); !s.ok()) return s;
    run->checkpoint_path = config.checkpoint_dir + "/checkpoint.pt";
  }
  if (config.resume && !run->checkpoint_path.empty()) {
    absl::Status resumed = Resume(run.get());
    if (absl::IsNotFound(resumed)) {
      LOG(INFO) << "--resume: no checkpoint in " << config.checkpoint_dir << " yet; starting";
    } else if (!resumed.ok()) {
      return resumed;
    }
  }
  return run;
}

absl::StatusOr<std::unique_ptr<Evaluator>> MakeEvaluator(const TrainConfig& config,
                                                         const TrainingRun& run) {
  std::vector<bool> enroll_session;
  if (!config.enroll_sessions.empty()) {
    RE2 enroll_re(config.enroll_sessions, RE2::Quiet);
    if (!enroll_re.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid --enroll_sessions regex '", config.enroll_sessions, "': ", enroll_re.error()));
    }
    for (const std::string& name : run.info.session_names()) {
      enroll_session.push_back(RE2::FullMatch(name, enroll_re));
    }
  }
  auto groups = SessionGroups(config.session_groups_spec,
                              {run.info.session_names().begin(), run.info.session_names().end()});
  if (!groups.ok()) return groups.status();
  return std::make_unique<Evaluator>(run.servers, run.meta.fingerprint, ClientOptionsOf(config),
                                     std::move(enroll_session), *std::move(groups));
}

BatchStreamOptions StreamOptions(const TrainConfig& config, const TrainingRun& run,
                                 const ServerResolver& resolve) {
  BatchStreamOptions o;
  o.servers = config.servers;
  // The first epoch reads the addresses resolved at start; later ones
  // re-resolve the names.
  o.resolve = resolve;
  o.first_addresses = run.servers;
  o.start_epoch = run.meta.epoch;
  o.start_index = run.meta.next_index;
  o.prefetch_per_shard = config.prefetch_per_shard;
  o.client = ClientOptionsOf(config);
  v1::StreamTripletsRequest& request = o.request;
  request.set_seed(config.seed);
  request.set_expected_fingerprint(run.meta.fingerprint);
  request.set_positive_other_session(config.positive_other_session);
  if (config.loss == LossKind::kTriplet) {
    request.set_mode(v1::SAMPLING_MODE_TRIPLET);
    request.set_batch_size(config.batch_size);
  } else {
    request.set_mode(v1::SAMPLING_MODE_PK);
    request.set_p(config.p);
    request.set_k(config.k);
  }
  return o;
}

}  // namespace tripletstream
