#ifndef TRIPLETSTREAM_TRAINER_EVALUATION_H_
#define TRIPLETSTREAM_TRAINER_EVALUATION_H_

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "trainer/tcn.h"
#include "trainer/verification_metrics.h"
#include "tripletstream/v1/tripletstream.pb.h"

namespace tripletstream {

// Every window of one split, as StreamWindows sends them (normalized).
struct WindowSet {
  int64_t length = 0, channels = 0;
  std::vector<float> values;  // [N, T, C]
  std::vector<int32_t> users, sessions;
  int64_t size() const { return static_cast<int64_t>(users.size()); }
};

// Fetches a split through StreamWindows, checking digests and the
// fingerprint.
absl::StatusOr<WindowSet> FetchWindows(const std::string& server, v1::Split split,
                                       const std::string& fingerprint);

// L2-normalized embeddings, [N * embedding] row-major, in eval mode without
// gradients; the model's training mode is restored.
std::vector<float> Embed(Tcn& model, const torch::Device& device, const WindowSet& windows);

struct EvalReport {
  bool has_open_set = false, has_cross_session = false;
  VerificationResult open_set;       // Test users: first half of their sessions enroll.
  VerificationResult cross_session;  // Training users: train sessions enroll, holdout probe.
  // The same scores restricted to the probes of one session group (e.g. the
  // activity of MotionSense's "wlk_15", or all moving activities); empty
  // without groups.
  std::map<std::string, VerificationResult> open_set_groups, cross_session_groups;
};

// Open-set on `test` (users never trained on). With `enroll_session` (by
// session id) non-empty, windows of sessions marked true enroll and the others
// probe; otherwise each user's first ceil(sessions / 2) sessions (session-id
// order) enroll, and a user with one session enrolls the first half of its
// windows. Cross-session when `holdout` is non-empty: templates from `train`,
// probes from `holdout`. `session_groups` (by session id; trainer/
// session_groups.h) adds scores per group of the probes' sessions.
EvalReport Evaluate(Tcn& model, const torch::Device& device, const WindowSet& test,
                    const WindowSet& train, const WindowSet& holdout,
                    const std::vector<bool>& enroll_session = {},
                    const std::vector<std::vector<std::string>>& session_groups = {});

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_TRAINER_EVALUATION_H_
