#include "trainer/checkpoint.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "trainer/checkpoint_files.h"
#include "trainer/run_setup.h"

namespace tripletstream {
namespace {

torch::Tensor FloatTensor(const std::vector<float>& v) {
  return torch::tensor(v.empty() ? std::vector<float>{} : v, torch::kFloat32);
}

std::vector<float> FloatVector(const torch::Tensor& t) {
  torch::Tensor c = t.contiguous().to(torch::kFloat32);
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

void WriteMeta(torch::serialize::OutputArchive& archive, const CheckpointMeta& m) {
  archive.write("meta.model_config", c10::IValue(m.model_config));
  archive.write("meta.fingerprint", c10::IValue(m.fingerprint));
  archive.write("meta.loss_config", c10::IValue(m.loss_config));
  archive.write("meta.channel_names", c10::IValue(absl::StrJoin(m.channel_names, "\n")));
  archive.write("meta.seed", c10::IValue(static_cast<int64_t>(m.seed)));
  archive.write("meta.step", c10::IValue(m.step));
  archive.write("meta.epoch", c10::IValue(m.epoch));
  archive.write("meta.next_index", c10::IValue(m.next_index));
  archive.write("meta.world_size", c10::IValue(m.world_size));
  archive.write("meta.window_length", c10::IValue(m.window_length));
  archive.write("meta.eer_threshold", c10::IValue(m.eer_threshold));
  std::vector<std::string> groups;
  std::vector<double> thresholds;
  for (const auto& [group, threshold] : m.group_thresholds) {
    if (group.empty() || group.find('\n') != std::string::npos) continue;  // Not storable.
    groups.push_back(group);
    thresholds.push_back(threshold);
  }
  if (!groups.empty()) {  // Absent, like in checkpoints from before.
    archive.write("meta.group_names", c10::IValue(absl::StrJoin(groups, "\n")));
    archive.write("meta.group_thresholds", torch::tensor(thresholds, torch::kFloat64));
  }
  archive.write("meta.norm_mean", FloatTensor(m.norm_mean));
  archive.write("meta.norm_std", FloatTensor(m.norm_std));
}

CheckpointMeta ReadMeta(torch::serialize::InputArchive& archive) {
  CheckpointMeta m;
  c10::IValue v;
  archive.read("meta.model_config", v);
  m.model_config = v.toStringRef();
  archive.read("meta.fingerprint", v);
  m.fingerprint = v.toStringRef();
  archive.read("meta.loss_config", v);
  m.loss_config = v.toStringRef();
  archive.read("meta.channel_names", v);
  m.channel_names = absl::StrSplit(v.toStringRef(), '\n', absl::SkipEmpty());
  archive.read("meta.seed", v);
  m.seed = static_cast<uint64_t>(v.toInt());
  archive.read("meta.step", v);
  m.step = v.toInt();
  archive.read("meta.epoch", v);
  m.epoch = v.toInt();
  archive.read("meta.next_index", v);
  m.next_index = v.toInt();
  // Checkpoints from before data-parallel training are single-rank.
  m.world_size = archive.try_read("meta.world_size", v) ? v.toInt() : 1;
  archive.read("meta.window_length", v);
  m.window_length = v.toInt();
  archive.read("meta.eer_threshold", v);
  m.eer_threshold = v.toDouble();
  torch::Tensor t;
  // Per-group thresholds came later: older checkpoints have none.
  if (archive.try_read("meta.group_names", v)) {
    std::vector<std::string> groups = absl::StrSplit(v.toStringRef(), '\n', absl::SkipEmpty());
    torch::Tensor thresholds;  // Its own: read() into a defined tensor copies in place.
    if (archive.try_read("meta.group_thresholds", thresholds) &&
        thresholds.numel() == static_cast<int64_t>(groups.size())) {
      thresholds = thresholds.to(torch::kFloat64).contiguous();
      for (size_t i = 0; i < groups.size(); ++i) {
        m.group_thresholds[groups[i]] = thresholds.data_ptr<double>()[i];
      }
    }
  }
  archive.read("meta.norm_mean", t);
  m.norm_mean = FloatVector(t);
  archive.read("meta.norm_std", t);
  m.norm_std = FloatVector(t);
  return m;
}

}  // namespace

double AcceptThreshold(const CheckpointMeta& meta, const std::string& group, double flag,
                       std::string* source) {
  auto say = [&](const char* what) {
    if (source != nullptr) *source = what;
  };
  if (flag >= -1) {
    say("flag");
    return flag;
  }
  const auto own = meta.group_thresholds.find(group);
  if (!group.empty() && own != meta.group_thresholds.end()) {
    say("group");
    return own->second;
  }
  say("pooled");
  return meta.eer_threshold;
}

absl::Status SaveCheckpoint(const std::string& path, Tcn& model,
                            torch::optim::Optimizer& optimizer, const CheckpointMeta& meta,
                            const WeightAverage* average) {
  // A good checkpoint is never replaced by a damaged model.
  if (absl::Status s = CheckFiniteParameters(model, "the model to checkpoint"); !s.ok()) return s;
  const std::string temporary = path + ".tmp";
  try {
    torch::serialize::OutputArchive archive;
    torch::serialize::OutputArchive model_archive, optimizer_archive;
    model->save(model_archive);
    optimizer.save(optimizer_archive);
    archive.write("model", model_archive);
    archive.write("optimizer", optimizer_archive);
    archive.write("rng_state", at::detail::getDefaultCPUGenerator().get_state());
    if (average != nullptr && !average->state().empty()) {
      torch::serialize::OutputArchive average_archive;
      const std::vector<torch::Tensor>& state = average->state();
      for (size_t i = 0; i < state.size(); ++i) {
        average_archive.write(std::to_string(i), state[i].cpu());
      }
      average_archive.write("updates", c10::IValue(average->updates()));
      archive.write("average", average_archive);
    }
    WriteMeta(archive, meta);
    archive.save_to(temporary);
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("cannot write checkpoint ", temporary, ": ",
                                            e.what_without_backtrace()));
  }
  // Read back before it replaces anything.
  if (auto readable = ReadCheckpointMeta(temporary); !readable.ok()) {
    return absl::InternalError(
        absl::StrCat("the checkpoint just written does not read back: ", readable.status().message()));
  }
  return CommitCheckpointFile(temporary, path);
}

absl::Status CheckFiniteParameters(Tcn& model, const std::string& what) {
  torch::NoGradGuard no_grad;
  for (const auto& p : model->named_parameters()) {
    if (!torch::isfinite(p.value()).all().item<bool>()) {
      return absl::FailedPreconditionError(
          absl::StrCat(what, " has non-finite values in ", p.key()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<CheckpointMeta> ReadCheckpointMeta(const std::string& path) {
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    return ReadMeta(archive);
  } catch (const c10::Error& e) {
    return absl::DataLossError(
        absl::StrCat("cannot read checkpoint ", path, ": ", e.what_without_backtrace()));
  }
}

namespace {

// The checkpoint's weight average, or an empty vector when it has none.
std::vector<torch::Tensor> ReadAverage(torch::serialize::InputArchive& archive, size_t tensors,
                                       int64_t* updates) {
  torch::serialize::InputArchive average_archive;
  if (!archive.try_read("average", average_archive)) return {};
  std::vector<torch::Tensor> state(tensors);
  for (size_t i = 0; i < tensors; ++i) average_archive.read(std::to_string(i), state[i]);
  c10::IValue count;
  average_archive.read("updates", count);
  *updates = count.toInt();
  return state;
}

}  // namespace

absl::Status LoadModelWeights(const std::string& path, Tcn& model) {
  // Any decay enables the holder; it only receives the saved average.
  WeightAverage saved(/*decay=*/0.5);
  if (absl::Status s = LoadCheckpoint(path, model, nullptr, &saved); !s.ok()) return s;
  saved.Swap(model);  // A no-op when the checkpoint has no average.
  return absl::OkStatus();
}

absl::Status LoadCheckpoint(const std::string& path, Tcn& model,
                            torch::optim::Optimizer* optimizer, WeightAverage* average) {
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    torch::serialize::InputArchive model_archive;
    archive.read("model", model_archive);
    model->load(model_archive);
    if (optimizer != nullptr) {
      torch::serialize::InputArchive optimizer_archive;
      archive.read("optimizer", optimizer_archive);
      optimizer->load(optimizer_archive);
      torch::Tensor rng;
      archive.read("rng_state", rng);
      at::Generator generator = at::detail::getDefaultCPUGenerator();
      generator.set_state(rng);
    }
    if (average != nullptr && average->enabled()) {
      int64_t updates = 0;
      std::vector<torch::Tensor> state = ReadAverage(archive, ModelState(model).size(), &updates);
      if (!state.empty()) {
        if (absl::Status s = average->Restore(model, std::move(state), updates); !s.ok()) {
          return absl::DataLossError(absl::StrCat("checkpoint ", path, ": ", s.message()));
        }
      }
    }
  } catch (const c10::Error& e) {
    return absl::DataLossError(
        absl::StrCat("cannot load checkpoint ", path, ": ", e.what_without_backtrace()));
  }
  return absl::OkStatus();
}

}  // namespace tripletstream
