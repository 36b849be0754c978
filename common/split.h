#ifndef TRIPLETSTREAM_COMMON_SPLIT_H_
#define TRIPLETSTREAM_COMMON_SPLIT_H_

#include <array>
#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"
#include "common/dataset.h"

namespace tripletstream {

// Splits in wire order (tripletstream.v1.Split minus one).
enum class SplitId : int { kTrain = 0, kVal = 1, kTest = 2, kHoldout = 3 };
inline constexpr int kNumSplits = 4;
const char* SplitName(SplitId split);  // "train", "val", "test", "holdout".

struct SplitConfig {
  // User fractions (--split insists they sum to 1; set here directly they
  // are normalized by their sum). Used for users not matched by
  // the regexes below.
  double train_fraction = 0.7;
  double val_fraction = 0.1;
  double test_fraction = 0.2;
  uint64_t seed = 1;
  // RE2 full matches on user names: matching users go to test / val
  // (open-set protocol, e.g. "1[7-9]|2[0-4]"). When either is set the
  // fractions are not used: every other user trains.
  std::string test_user_regex;
  std::string val_user_regex;
  // RE2 full match on session names: those sessions of training users form
  // the holdout split (cross-session protocol, e.g. ".*_1[1-6]").
  std::string holdout_session_regex;
};

// Parses "0.7,0.1,0.2" (train,val,test; each in [0,1], sum > 0).
absl::Status ParseSplitFractions(absl::string_view text, SplitConfig* config);

struct SplitAssignment {
  std::vector<SplitId> user_split;    // By user id.
  std::vector<SplitId> series_split;  // By series position.
};

// Deterministic in (user names, session names, config): users are ordered
// by a keyed hash of their name, then cut by the fractions (at least one
// user in a split whose fraction is > 0 when users remain, at least two
// training users). Errors name the cause: bad regex, fewer than 2 training
// users.
absl::StatusOr<SplitAssignment> AssignSplits(const Dataset& dataset,
                                             const SplitConfig& config);

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_COMMON_SPLIT_H_
