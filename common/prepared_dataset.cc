#include "common/prepared_dataset.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include <glog/logging.h>
#include "common/counter_rng.h"
#include "common/digest.h"

namespace tripletstream {
namespace {

uint64_t HashString(uint64_t state, const std::string& s) {
  return CombineDigest(state, Digest64(s.data(), s.size(), s.size()));
}

uint64_t ComputeFingerprint(const Dataset& data, const PreprocessConfig& config) {
  uint64_t h = 0x74726970ULL;  // "trip"
  for (const std::string& name : data.channel_names) h = HashString(h, name);
  for (const std::string& name : data.user_names) h = HashString(h, name);
  for (const std::string& name : data.session_names) h = HashString(h, name);
  for (const Series& series : data.series) {
    h = CombineDigest(h, MakeKey({static_cast<uint64_t>(series.user),
                                  static_cast<uint64_t>(series.session)}));
    h = CombineDigest(h, Digest64(series.values.data(),
                                  series.values.size() * sizeof(float)));
  }
  const SplitConfig& split = config.split;
  h = HashString(h, absl::StrFormat("w=%d s=%d f=%.9g,%.9g,%.9g seed=%d",
                                    config.window_length, config.window_stride,
                                    split.train_fraction, split.val_fraction,
                                    split.test_fraction, split.seed));
  h = HashString(h, split.test_user_regex);
  h = HashString(h, split.val_user_regex);
  h = HashString(h, split.holdout_session_regex);
  return h;
}

}  // namespace

std::string FingerprintHex(uint64_t fingerprint) {
  return absl::StrFormat("%016x", fingerprint);
}

absl::StatusOr<std::unique_ptr<PreparedDataset>> PrepareDataset(
    Dataset dataset, const PreprocessConfig& config) {
  if (config.window_length <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--window must be positive, got ", config.window_length));
  }
  if (config.window_stride <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--stride must be positive, got ", config.window_stride));
  }
  PreprocessConfig resolved = config;
  std::string gravity_summary;
  if (absl::Status s = ResolveGravityTriad(dataset, &resolved.derived, &gravity_summary);
      !s.ok()) {
    return s;
  }
  if (!gravity_summary.empty()) LOG(INFO) << gravity_summary;
  if (resolved.derived.enabled()) {
    auto plan = PlanDerivedChannels(dataset.channel_names, resolved.derived);
    if (!plan.ok()) return plan.status();
    ApplyPlan(*plan, &dataset);
  }
  const int channels = dataset.channels();
  int64_t longest = 0;
  size_t longest_at = 0;
  for (size_t s = 0; s < dataset.series.size(); ++s) {
    if (dataset.series[s].rows(channels) > longest) {
      longest = dataset.series[s].rows(channels);
      longest_at = s;
    }
  }
  if (longest < config.window_length) {
    std::string where = dataset.series.empty()
        ? std::string("no sessions")
        : absl::StrCat("the longest session (user ",
                       dataset.user_names[dataset.series[longest_at].user],
                       ", session ",
                       dataset.session_names[dataset.series[longest_at].session],
                       ") has ", longest, " rows");
    return absl::FailedPreconditionError(absl::StrCat(
        "window of ", config.window_length,
        " samples is longer than every session: ", where));
  }

  auto prepared = std::make_unique<PreparedDataset>();
  prepared->config = resolved;
  prepared->fingerprint = ComputeFingerprint(dataset, config);
  auto splits = AssignSplits(dataset, config.split);
  if (!splits.ok()) return splits.status();
  prepared->splits = *std::move(splits);

  std::vector<bool> in_train(dataset.series.size());
  for (size_t s = 0; s < dataset.series.size(); ++s) {
    in_train[s] = prepared->splits.series_split[s] == SplitId::kTrain;
  }
  prepared->norm = ComputeNormStats(dataset, in_train);
  for (Series& series : dataset.series) {
    NormalizeRows(prepared->norm, series.values.data(), series.rows(channels));
  }
  prepared->data = std::move(dataset);
  prepared->windows = WindowIndex::Build(prepared->data, prepared->splits.series_split,
                                         config.window_length, config.window_stride);
  const SplitWindows& train = prepared->windows.split(SplitId::kTrain);
  if (train.users.size() < 2) {
    return absl::FailedPreconditionError(absl::StrCat(
        "need at least 2 training users with a full window of ",
        config.window_length, " samples, have ", train.users.size()));
  }
  return prepared;
}

}  // namespace tripletstream
