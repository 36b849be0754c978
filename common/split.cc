#include "common/split.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/counter_rng.h"
#include "common/digest.h"
#include "re2/re2.h"

namespace tripletstream {
namespace {

absl::StatusOr<std::unique_ptr<RE2>> CompileOptional(const std::string& pattern,
                                                     const char* what) {
  if (pattern.empty()) return std::unique_ptr<RE2>();
  auto re = std::make_unique<RE2>(pattern, RE2::Quiet);
  if (!re->ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid ", what, " regex '", pattern, "': ", re->error()));
  }
  return re;
}

}  // namespace

const char* SplitName(SplitId split) {
  switch (split) {
    case SplitId::kTrain: return "train";
    case SplitId::kVal: return "val";
    case SplitId::kTest: return "test";
    case SplitId::kHoldout: return "holdout";
  }
  return "?";
}

absl::Status ParseSplitFractions(absl::string_view text, SplitConfig* config) {
  std::vector<std::string> parts = absl::StrSplit(text, ',');
  if (parts.size() != 3) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--split wants three comma-separated fractions train,val,test; got '",
        text, "'"));
  }
  double values[3];
  for (int i = 0; i < 3; ++i) {
    if (!absl::SimpleAtod(parts[i], &values[i]) || !(values[i] >= 0) ||
        values[i] > 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--split: '", parts[i], "' is not a fraction in [0, 1]"));
    }
  }
  if (values[0] <= 0) {
    return absl::InvalidArgumentError("--split: the train fraction must be > 0");
  }
  // Rescaling silently would hide a typo (0.7,0.1,0.3 is not what anyone meant).
  const double sum = values[0] + values[1] + values[2];
  if (std::abs(sum - 1.0) > 1e-6) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--split: the fractions must sum to 1, '", text, "' sums to ", sum));
  }
  config->train_fraction = values[0];
  config->val_fraction = values[1];
  config->test_fraction = values[2];
  return absl::OkStatus();
}

absl::StatusOr<SplitAssignment> AssignSplits(const Dataset& dataset,
                                             const SplitConfig& config) {
  auto test_re = CompileOptional(config.test_user_regex, "test user");
  if (!test_re.ok()) return test_re.status();
  auto val_re = CompileOptional(config.val_user_regex, "val user");
  if (!val_re.ok()) return val_re.status();
  auto holdout_re = CompileOptional(config.holdout_session_regex, "holdout session");
  if (!holdout_re.ok()) return holdout_re.status();

  const int num_users = static_cast<int>(dataset.user_names.size());
  SplitAssignment out;
  out.user_split.assign(num_users, SplitId::kTrain);
  if (*test_re || *val_re) {
    for (int u = 0; u < num_users; ++u) {
      const std::string& name = dataset.user_names[u];
      if (*test_re && RE2::FullMatch(name, **test_re)) {
        out.user_split[u] = SplitId::kTest;
      } else if (*val_re && RE2::FullMatch(name, **val_re)) {
        out.user_split[u] = SplitId::kVal;
      }
    }
  } else {
    // Order users by a keyed hash of their names: stable when users are
    // added or removed, and independent of file order.
    std::vector<int> order(num_users);
    std::iota(order.begin(), order.end(), 0);
    auto rank = [&](int u) {
      const std::string& name = dataset.user_names[u];
      return Mix64(Digest64(name.data(), name.size(), config.seed));
    };
    std::sort(order.begin(), order.end(),
              [&](int a, int b) { return rank(a) < rank(b); });
    double total = config.train_fraction + config.val_fraction + config.test_fraction;
    auto count_for = [&](double fraction) {
      if (fraction <= 0) return 0;
      int n = static_cast<int>(std::lround(num_users * fraction / total));
      return std::max(n, 1);
    };
    int n_test = count_for(config.test_fraction);
    int n_val = count_for(config.val_fraction);
    // Never starve training: shrink test then val to keep two train users.
    while (num_users - n_test - n_val < 2 && (n_test > 0 || n_val > 0)) {
      if (n_test >= n_val && n_test > 0) --n_test; else --n_val;
    }
    for (int i = 0; i < n_test; ++i) out.user_split[order[i]] = SplitId::kTest;
    for (int i = n_test; i < n_test + n_val; ++i) out.user_split[order[i]] = SplitId::kVal;
  }
  int train_users = static_cast<int>(
      std::count(out.user_split.begin(), out.user_split.end(), SplitId::kTrain));
  if (train_users < 2) {
    return absl::FailedPreconditionError(absl::StrCat(
        "need at least 2 training users, have ", train_users, " of ", num_users,
        " users; check --split / --test_user_regex / --val_user_regex"));
  }

  out.series_split.resize(dataset.series.size());
  for (size_t s = 0; s < dataset.series.size(); ++s) {
    const Series& series = dataset.series[s];
    SplitId split = out.user_split[series.user];
    if (split == SplitId::kTrain && *holdout_re &&
        RE2::FullMatch(dataset.session_names[series.session], **holdout_re)) {
      split = SplitId::kHoldout;
    }
    out.series_split[s] = split;
  }
  return out;
}

}  // namespace tripletstream
