#ifndef TRIPLETSTREAM_TRAINER_EVALUATION_H_
#define TRIPLETSTREAM_TRAINER_EVALUATION_H_

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/client_options.h"
#include "client/window_set.h"
#include "trainer/tcn.h"
#include "trainer/verification_metrics.h"

namespace tripletstream {

// L2-normalized embeddings, [N * embedding] row-major, in eval mode without
// gradients; the model's training mode is restored.
std::vector<float> Embed(Tcn& model, const torch::Device& device, const WindowSet& windows);

// Open-set on `test` (users never trained on). With `enroll_session` (by
// session id) non-empty, windows of sessions marked true enroll and the others
// probe; otherwise each user's first ceil(sessions / 2) sessions (session-id
// order) enroll, and a user with one session enrolls the first half of its
// windows. Cross-session when `holdout` is non-empty: templates from `train`,
// probes from `holdout`. `session_groups` (by session id; trainer/
// session_groups.h) adds scores per group of the probes' sessions;
// `group_templates` makes those use templates enrolled from the group's own
// sessions, and adds the pooled per-group-template scores (EvalReport
// *_own_group).
EvalReport Evaluate(Tcn& model, const torch::Device& device, const WindowSet& test,
                    const WindowSet& train, const WindowSet& holdout,
                    const std::vector<bool>& enroll_session = {},
                    const std::vector<std::vector<std::string>>& session_groups = {},
                    int non_overlap_skip = 1, bool group_templates = false);

// Evaluation during and after training: fetches the test, train and
// holdout windows once (through the client library, from whichever server
// answers) and scores the model on them with Evaluate.
class Evaluator {
 public:
  // `non_overlap_skip`: ceil(window / stride), the step between
  // non-overlapping windows of a session (for multi-window probes).
  Evaluator(std::vector<std::string> servers, std::string fingerprint, ClientOptions client,
            std::vector<bool> enroll_session,
            std::vector<std::vector<std::string>> session_groups, int non_overlap_skip = 1,
            bool group_templates = false);

  absl::StatusOr<EvalReport> Run(Tcn& model, const torch::Device& device);

 private:
  absl::Status FetchOnce();

  const std::vector<std::string> servers_;
  const std::string fingerprint_;
  const ClientOptions client_;
  const std::vector<bool> enroll_session_;
  const std::vector<std::vector<std::string>> session_groups_;
  const int non_overlap_skip_;
  const bool group_templates_;
  bool fetched_ = false;
  WindowSet test_, train_, holdout_, validation_;
};

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_TRAINER_EVALUATION_H_
