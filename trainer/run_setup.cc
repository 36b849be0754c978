#include "trainer/run_setup.h"

#include <glog/logging.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/dataset_client.h"
#include "re2/re2.h"
#include "trainer/checkpoint_files.h"
#include "trainer/distributed.h"
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

// cpu, cuda or cuda:N (N: a visible device, e.g. LOCAL_RANK's).
absl::StatusOr<torch::Device> ChooseDevice(const std::string& device) {
  int index = -1;
  const bool cuda = device == "cuda" || (absl::StartsWith(device, "cuda:") &&
                                         absl::SimpleAtoi(device.substr(5), &index) && index >= 0);
  if (device != "cpu" && !cuda) {
    return absl::InvalidArgumentError(
        absl::StrCat("--device must be cpu, cuda or cuda:N, got '", device, "'"));
  }
  if (cuda && !torch::cuda::is_available()) {
    return absl::FailedPreconditionError(
        "--device=cuda but no CUDA device is visible (or this LibTorch has no CUDA); "
        "use --device=cpu");
  }
  if (cuda && index >= static_cast<int>(torch::cuda::device_count())) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--device=", device, " but only ", torch::cuda::device_count(), " CUDA devices are visible"));
  }
  if (!cuda) return torch::Device(torch::kCPU);
  return index < 0 ? torch::Device(torch::kCUDA)
                   : torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
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

// Restores `run` from the checkpoint at `path` (already verified) when it
// belongs to this run; `shown` names it in messages.
absl::Status ResumeFrom(TrainingRun* run, const std::string& path, const std::string& shown) {
  auto saved = ReadCheckpointMeta(path);
  if (!saved.ok()) return saved.status();
  if (saved->fingerprint != run->meta.fingerprint) {
    return absl::FailedPreconditionError(absl::StrCat(
        shown, " was trained on dataset ", saved->fingerprint, ", the servers have ",
        run->meta.fingerprint, " (different data or preprocessing)"));
  }
  if (saved->model_config != run->meta.model_config ||
      saved->loss_config != run->meta.loss_config) {
    return absl::FailedPreconditionError(absl::StrCat(
        shown, " has model [", saved->model_config, "] and run [", saved->loss_config,
        "]; the flags ask for [", run->meta.model_config, "] and [", run->meta.loss_config,
        "]"));
  }
  // The data position is a step boundary of the world that wrote it; another
  // world size would split the rest of the epoch differently.
  if (saved->world_size != run->meta.world_size) {
    return absl::FailedPreconditionError(absl::StrCat(
        shown, " was written by ", saved->world_size, " trainer rank(s); this run has ",
        run->meta.world_size, ": resume with --world_size=", saved->world_size,
        " (WORLD_SIZE), or start a new --checkpoint_dir"));
  }
  if (absl::Status s = LoadCheckpoint(path, run->model, run->optimizer.get(), &run->average);
      !s.ok()) {
    return absl::FailedPreconditionError(s.message());  // Retrying cannot repair it.
  }
  if (absl::Status s = CheckFiniteParameters(run->model, shown); !s.ok()) return s;
  run->meta.step = saved->step;
  run->meta.epoch = saved->epoch;
  run->meta.next_index = saved->next_index;
  LOG(INFO) << "resumed " << shown << " at step " << saved->step << ", epoch " << saved->epoch
            << ", batch " << saved->next_index;
  return absl::OkStatus();
}

// Restores `run` from its checkpoint (or the previous one when the latest is
// damaged). NOT_FOUND when there is none.
absl::Status Resume(TrainingRun* run) {
  auto verified = VerifiedCheckpointPath(run->checkpoint_path);
  if (!verified.ok()) return verified.status();
  return ResumeFrom(run, *verified, *verified);
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::string bytes;
  char buffer[1 << 16];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), f)) > 0) bytes.append(buffer, n);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return absl::DataLossError(absl::StrCat("cannot read ", path));
  return bytes;
}

// Data-parallel resume: rank 0 reads its verified checkpoint and sends the
// bytes to every rank (so the other ranks need no shared volume); each rank
// restores from them. An empty message means "no checkpoint yet".
absl::Status ResumeAcrossRanks(TrainingRun* run, ProcessGroup& group, bool has_dir) {
  std::string bytes;
  std::string shown = "rank 0's checkpoint";
  if (group.rank() == 0 && has_dir) {
    auto verified = VerifiedCheckpointPath(run->checkpoint_path);
    if (verified.ok()) {
      auto read = ReadWholeFile(*verified);
      if (!read.ok()) return read.status();
      bytes = *std::move(read);
      shown = *verified;
    } else if (!absl::IsNotFound(verified.status())) {
      return verified.status();
    }
  }
  if (absl::Status s = group.BroadcastBytes(&bytes); !s.ok()) return s;
  if (bytes.empty()) return absl::NotFoundError("no checkpoint");
  if (group.rank() == 0) return ResumeFrom(run, shown, shown);
  char dir_template[] = "/tmp/tripletstream-resume-XXXXXX";
  if (mkdtemp(dir_template) == nullptr) {
    return absl::InternalError("cannot make a temporary folder in /tmp for the checkpoint");
  }
  const std::string copy = std::string(dir_template) + "/checkpoint.pt";
  std::FILE* f = std::fopen(copy.c_str(), "wb");
  const bool written = f != nullptr && std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  if (f != nullptr) std::fclose(f);
  absl::Status resumed =
      written ? ResumeFrom(run, copy, shown)
              : absl::InternalError(absl::StrCat("cannot write the checkpoint copy ", copy));
  std::error_code ignored;
  std::filesystem::remove_all(dir_template, ignored);
  return resumed;
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

std::vector<torch::Tensor> ModelState(Tcn& model) {
  std::vector<torch::Tensor> state = model->parameters();
  for (const torch::Tensor& buffer : model->buffers()) state.push_back(buffer);
  return state;
}

ClientOptions ClientOptionsOf(const TrainConfig& config) {
  ClientOptions client;
  client.stall_timeout_s = config.stall_timeout_s;
  client.give_up_after_s = config.give_up_after_s;
  client.channel.tls = config.tls;
  return client;
}

absl::StatusOr<std::unique_ptr<TrainingRun>> PrepareRun(const TrainConfig& config,
                                                        const ServerResolver& resolve,
                                                        ProcessGroup* group) {
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
  run->average = WeightAverage(config.ema_decay);
  LOG(INFO) << "TCN " << options.ToString() << ", receptive field " << ReceptiveField(options)
            << " samples (window " << run->info.window_length() << "), "
            << options.in_channels << " channels, device " << config.device << ", "
            << torch::get_num_threads() << " threads";
  run->meta = MetaOf(config, options, run->info);
  run->meta.world_size = config.distributed.world_size;
  const int rank = group != nullptr ? group->rank() : 0;
  if (group != nullptr) run->model->set_dropout_rank(rank);
  // Rank 0 alone writes checkpoints.
  if (!config.checkpoint_dir.empty() && rank == 0) {
    if (absl::Status s = CheckWritableDirectory(config.checkpoint_dir); !s.ok()) return s;
    run->checkpoint_path = config.checkpoint_dir + "/checkpoint.pt";
  }
  if (config.resume && !config.checkpoint_dir.empty()) {
    absl::Status resumed = group != nullptr
                               ? ResumeAcrossRanks(run.get(), *group, !run->checkpoint_path.empty())
                               : Resume(run.get());
    if (absl::IsNotFound(resumed)) {
      LOG(INFO) << "--resume: no checkpoint in " << config.checkpoint_dir << " yet; starting";
    } else if (!resumed.ok()) {
      return resumed;
    }
  }
  if (group != nullptr) {
    // Every rank starts from rank 0's weights and buffers.
    torch::NoGradGuard no_grad;
    if (absl::Status s = group->Broadcast(ModelState(run->model)); !s.ok()) return s;
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
  if (config.group_templates && config.session_groups_spec.empty()) {
    return absl::InvalidArgumentError(
        "--group_templates needs --session_groups (which sessions form each group)");
  }
  const int stride = std::max(run.info.window_stride(), 1);
  const int skip = (run.info.window_length() + stride - 1) / stride;
  return std::make_unique<Evaluator>(run.servers, run.meta.fingerprint, ClientOptionsOf(config),
                                     std::move(enroll_session), *std::move(groups), skip,
                                     config.group_templates);
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
  o.rank = config.distributed.rank;
  o.world_size = config.distributed.world_size;
  o.prefetch_per_shard = config.prefetch_per_shard;
  o.resolve_interval_s = config.resolve_interval_s;
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
