#ifndef TRIPLETSTREAM_TRAINER_VERIFICATION_METRICS_H_
#define TRIPLETSTREAM_TRAINER_VERIFICATION_METRICS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tripletstream {

struct EerResult {
  double eer = 0;        // Equal error rate in [0, 1].
  double threshold = 0;  // Score at which FAR ~= FRR (accept if score >= it).
};

// Scores are similarities (higher = same user). FRR(t) = share of genuine
// scores < t, FAR(t) = share of impostor scores >= t; the EER is taken where
// the two curves cross (mean of the two rates at the closest threshold).
// Both lists must be non-empty.
EerResult ComputeEer(std::vector<float> genuine, std::vector<float> impostor);

// Smallest threshold whose FAR is <= far (e.g. 0.01).
double ThresholdAtFar(std::vector<float> impostor, double far);

// One point of a DET curve: false accept and false reject rates (in [0, 1])
// at one threshold.
struct DetPoint {
  double far = 0;
  double frr = 0;
};

// The DET curve at `points` thresholds spread evenly over the quantiles of
// all scores (both lists sorted or not), from accepting everything to
// accepting nothing. Empty when either list is.
std::vector<DetPoint> DetCurve(std::vector<float> genuine, std::vector<float> impostor,
                               int points = 64);

struct VerificationResult {
  double eer_pct = 0;
  double threshold = 0;
  double top1_pct = 0;  // Probes whose best template is their own user.
  int64_t probes = 0;
  int64_t users = 0;
  std::vector<DetPoint> det;  // The scores' DET curve.
};

// Templates are the normalized mean of each user's enrollment embeddings;
// every probe is scored (cosine) against every template. Embeddings are rows
// of `dim` floats, assumed L2-normalized. Users with no enrollment window
// are not scored; probes of such users are skipped.
VerificationResult EvaluateVerification(const std::vector<float>& enroll,
                                        const std::vector<int32_t>& enroll_users,
                                        const std::vector<float>& probe,
                                        const std::vector<int32_t>& probe_users, int dim);

// Per-group templates: each user enrolls one template per group (e.g. per
// activity) from its enrollment rows of that group, and each probe is
// scored only against the templates of its own group; the scores of all
// groups are pooled into one EER and top-1. Rows with group -1 are left
// out; probes whose user has no template in their group are skipped.
VerificationResult EvaluateGroupedVerification(const std::vector<float>& enroll,
                                               const std::vector<int32_t>& enroll_users,
                                               const std::vector<int32_t>& enroll_groups,
                                               const std::vector<float>& probe,
                                               const std::vector<int32_t>& probe_users,
                                               const std::vector<int32_t>& probe_groups,
                                               int dim);

// Probe embeddings with their users and sessions.
struct Probes {
  std::vector<float> embeddings;  // Rows of dim floats.
  std::vector<int32_t> users, sessions;
  int64_t size() const { return static_cast<int64_t>(users.size()); }
};

// Multi-window probes, as deployed verification decides on several windows:
// within each run of consecutive rows of one (user, session) (windows in
// time order), keeps every `skip`-th window (skip = ceil(window / stride)
// makes them non-overlapping) and averages each `n` consecutive kept ones
// into one unit-norm probe; a remainder of fewer than `n` is dropped.
// n = 1, skip = 1 returns the rows as they are.
Probes FuseProbes(const std::vector<float>& embeddings, const std::vector<int32_t>& users,
                  const std::vector<int32_t>& sessions, int dim, int n, int skip);

// The fused probe sizes every evaluation reports besides single windows.
inline constexpr int kFusedWindowCounts[] = {3, 5, 10};

// One evaluation of a model (trainer/evaluation.h Evaluate).
struct EvalReport {
  bool has_open_set = false, has_cross_session = false;
  VerificationResult open_set;       // Test users: first half of their sessions enroll.
  VerificationResult cross_session;  // Training users: train sessions enroll, holdout probe.
  // The same scores restricted to the probes of one session group (e.g. the
  // activity of MotionSense's "wlk_15", or all moving activities); empty
  // without groups.
  std::map<std::string, VerificationResult> open_set_groups, cross_session_groups;
  // Probes of N fused non-overlapping windows (N in kFusedWindowCounts),
  // against the same templates; a size is absent when no session has N.
  std::map<int, VerificationResult> open_set_fused, cross_session_fused;
  // The same per session group: group -> N -> scores.
  std::map<std::string, std::map<int, VerificationResult>> open_set_groups_fused,
      cross_session_groups_fused;
  // Per-group templates (--group_templates with --session_groups): each
  // probe scored against its users' templates from sessions of its own group
  // (the first --session_groups entry that names a group for the session),
  // pooled over groups; single windows and fused probes.
  bool has_open_set_own_group = false, has_cross_session_own_group = false;
  VerificationResult open_set_own_group, cross_session_own_group;
  std::map<int, VerificationResult> open_set_own_group_fused, cross_session_own_group_fused;
  // Validation users (never trained on, not the test users), scored like
  // open-set: what model selection looks at.
  bool has_validation = false;
  VerificationResult validation;
  // The headline result: open-set when there is one, else cross-session.
  const VerificationResult* headline() const {
    return has_open_set ? &open_set : has_cross_session ? &cross_session : nullptr;
  }
};

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_TRAINER_VERIFICATION_METRICS_H_
