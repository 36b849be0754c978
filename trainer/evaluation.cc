#include "trainer/evaluation.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "client/dataset_client.h"

namespace tripletstream {

std::vector<float> Embed(Tcn& model, const torch::Device& device, const WindowSet& windows) {
  const bool was_training = model->is_training();
  model->eval();
  torch::NoGradGuard no_grad;
  std::vector<float> out;
  const int64_t chunk = 512;
  const int64_t per_window = windows.length * windows.channels;
  for (int64_t first = 0; first < windows.size(); first += chunk) {
    const int64_t n = std::min(chunk, windows.size() - first);
    torch::Tensor x = torch::from_blob(const_cast<float*>(windows.values.data()) +
                                           first * per_window,
                                       {n, windows.length, windows.channels}, torch::kFloat32)
                          .to(device);
    torch::Tensor e = model->forward(x).to(torch::kCPU).contiguous();
    out.insert(out.end(), e.data_ptr<float>(), e.data_ptr<float>() + e.numel());
  }
  model->train(was_training);
  return out;
}

namespace {

std::map<int, VerificationResult> Fused(const std::vector<float>& enroll,
                                        const std::vector<int32_t>& enroll_users,
                                        const std::vector<float>& probe,
                                        const std::vector<int32_t>& probe_users,
                                        const std::vector<int32_t>& probe_sessions, int dim,
                                        int skip);

// Verification scores per group of the probes' sessions (and, into `fused`,
// of probes fused from several windows, per group).
std::map<std::string, VerificationResult> ByGroup(
    const std::vector<float>& enroll, const std::vector<int32_t>& enroll_users,
    const std::vector<int32_t>* enroll_sessions, const std::vector<float>& probe,
    const std::vector<int32_t>& probe_users, const std::vector<int32_t>& probe_sessions,
    const std::vector<std::vector<std::string>>& groups_of, int dim, int skip,
    std::map<std::string, std::map<int, VerificationResult>>* fused) {
  std::map<std::string, VerificationResult> out;
  if (groups_of.empty()) return out;
  // With `enroll_sessions`, each group's templates come from its own
  // sessions only.
  auto in_group = [&](int32_t session, const std::string& group) {
    return session < static_cast<int32_t>(groups_of.size()) &&
           std::find(groups_of[session].begin(), groups_of[session].end(), group) !=
               groups_of[session].end();
  };
  std::map<std::string, std::vector<size_t>> rows;
  for (size_t i = 0; i < probe_users.size(); ++i) {
    const int32_t session = probe_sessions[i];
    if (session >= static_cast<int32_t>(groups_of.size())) {
      rows["?"].push_back(i);
      continue;
    }
    for (const std::string& group : groups_of[session]) rows[group].push_back(i);
  }
  for (const auto& [group, indices] : rows) {
    std::vector<float> values;
    std::vector<int32_t> users, sessions;
    for (size_t i : indices) {
      values.insert(values.end(), probe.begin() + i * dim, probe.begin() + (i + 1) * dim);
      users.push_back(probe_users[i]);
      sessions.push_back(probe_sessions[i]);
    }
    std::vector<float> own_enroll;
    std::vector<int32_t> own_users;
    if (enroll_sessions != nullptr) {
      for (size_t i = 0; i < enroll_users.size(); ++i) {
        if (!in_group((*enroll_sessions)[i], group)) continue;
        own_enroll.insert(own_enroll.end(), enroll.begin() + i * dim,
                          enroll.begin() + (i + 1) * dim);
        own_users.push_back(enroll_users[i]);
      }
    }
    const std::vector<float>& templates_from = enroll_sessions ? own_enroll : enroll;
    const std::vector<int32_t>& template_users = enroll_sessions ? own_users : enroll_users;
    out[group] = EvaluateVerification(templates_from, template_users, values, users, dim);
    auto by_n = Fused(templates_from, template_users, values, users, sessions, dim, skip);
    if (!by_n.empty()) (*fused)[group] = std::move(by_n);
  }
  return out;
}

// Scores of probes fused from N non-overlapping windows, per N.
std::map<int, VerificationResult> Fused(const std::vector<float>& enroll,
                                        const std::vector<int32_t>& enroll_users,
                                        const std::vector<float>& probe,
                                        const std::vector<int32_t>& probe_users,
                                        const std::vector<int32_t>& probe_sessions, int dim,
                                        int skip) {
  std::map<int, VerificationResult> out;
  for (int n : kFusedWindowCounts) {
    Probes fused = FuseProbes(probe, probe_users, probe_sessions, dim, n, skip);
    if (fused.size() == 0) continue;
    VerificationResult r = EvaluateVerification(enroll, enroll_users, fused.embeddings,
                                                fused.users, dim);
    if (r.probes > 0) out[n] = r;
  }
  return out;
}

// The template group of each session: the first group its --session_groups
// entries give it, as an id (-1: none).
std::vector<int32_t> TemplateGroupOfSession(
    const std::vector<std::vector<std::string>>& groups_of) {
  std::map<std::string, int32_t> ids;
  std::vector<int32_t> out(groups_of.size(), -1);
  for (size_t s = 0; s < groups_of.size(); ++s) {
    if (groups_of[s].empty()) continue;
    out[s] = ids.emplace(groups_of[s][0], static_cast<int32_t>(ids.size())).first->second;
  }
  return out;
}

std::vector<int32_t> GroupsOf(const std::vector<int32_t>& sessions,
                              const std::vector<int32_t>& group_of_session) {
  std::vector<int32_t> out(sessions.size(), -1);
  for (size_t i = 0; i < sessions.size(); ++i) {
    if (sessions[i] >= 0 && sessions[i] < static_cast<int32_t>(group_of_session.size())) {
      out[i] = group_of_session[sessions[i]];
    }
  }
  return out;
}

// Per-group templates pooled over groups, for single windows and fused
// probes.
VerificationResult OwnGroup(const std::vector<float>& enroll,
                            const std::vector<int32_t>& enroll_users,
                            const std::vector<int32_t>& enroll_sessions,
                            const std::vector<float>& probe,
                            const std::vector<int32_t>& probe_users,
                            const std::vector<int32_t>& probe_sessions,
                            const std::vector<int32_t>& group_of_session, int dim, int skip,
                            std::map<int, VerificationResult>* fused) {
  const std::vector<int32_t> enroll_groups = GroupsOf(enroll_sessions, group_of_session);
  for (int n : kFusedWindowCounts) {
    Probes f = FuseProbes(probe, probe_users, probe_sessions, dim, n, skip);
    if (f.size() == 0) continue;
    VerificationResult r =
        EvaluateGroupedVerification(enroll, enroll_users, enroll_groups, f.embeddings, f.users,
                                    GroupsOf(f.sessions, group_of_session), dim);
    if (r.probes > 0) (*fused)[n] = r;
  }
  return EvaluateGroupedVerification(enroll, enroll_users, enroll_groups, probe, probe_users,
                                     GroupsOf(probe_sessions, group_of_session), dim);
}

}  // namespace

EvalReport Evaluate(Tcn& model, const torch::Device& device, const WindowSet& test,
                    const WindowSet& train, const WindowSet& holdout,
                    const std::vector<bool>& enroll_session,
                    const std::vector<std::vector<std::string>>& session_groups,
                    int non_overlap_skip, bool group_templates) {
  EvalReport report;
  group_templates = group_templates && !session_groups.empty();
  const std::vector<int32_t> group_of_session = TemplateGroupOfSession(session_groups);
  const int dim = static_cast<int>(model->options().embedding);
  if (test.size() > 0) {
    std::vector<float> embeddings = Embed(model, device, test);
    // Sessions of each user, in id order; the first half enroll.
    std::map<int32_t, std::set<int32_t>> sessions;
    std::map<int32_t, int64_t> windows_of_user, seen_of_user;
    for (int64_t i = 0; i < test.size(); ++i) {
      sessions[test.users[i]].insert(test.sessions[i]);
      ++windows_of_user[test.users[i]];
    }
    std::vector<float> enroll, probe;
    std::vector<int32_t> enroll_users, enroll_sessions, probe_users, probe_sessions;
    for (int64_t i = 0; i < test.size(); ++i) {
      const int32_t user = test.users[i];
      const std::set<int32_t>& own = sessions[user];
      bool enrolls;
      if (!enroll_session.empty()) {
        enrolls = test.sessions[i] < static_cast<int32_t>(enroll_session.size()) &&
                  enroll_session[test.sessions[i]];
      } else if (own.size() == 1) {
        enrolls = seen_of_user[user]++ < windows_of_user[user] / 2;
      } else {
        const size_t rank = std::distance(own.begin(), own.find(test.sessions[i]));
        enrolls = rank < (own.size() + 1) / 2;
      }
      auto& target = enrolls ? enroll : probe;
      target.insert(target.end(), embeddings.begin() + i * dim,
                    embeddings.begin() + (i + 1) * dim);
      (enrolls ? enroll_users : probe_users).push_back(user);
      (enrolls ? enroll_sessions : probe_sessions).push_back(test.sessions[i]);
    }
    report.open_set = EvaluateVerification(enroll, enroll_users, probe, probe_users, dim);
    report.has_open_set = report.open_set.probes > 0 && report.open_set.users > 1;
    report.open_set_groups =
        ByGroup(enroll, enroll_users, group_templates ? &enroll_sessions : nullptr, probe,
                probe_users, probe_sessions, session_groups, dim, non_overlap_skip,
                &report.open_set_groups_fused);
    if (group_templates) {
      report.open_set_own_group =
          OwnGroup(enroll, enroll_users, enroll_sessions, probe, probe_users, probe_sessions,
                   group_of_session, dim, non_overlap_skip, &report.open_set_own_group_fused);
      report.has_open_set_own_group =
          report.open_set_own_group.probes > 0 && report.open_set_own_group.users > 1;
    }
    report.open_set_fused = Fused(enroll, enroll_users, probe, probe_users, probe_sessions, dim,
                                  non_overlap_skip);
  }
  if (holdout.size() > 0 && train.size() > 0) {
    std::vector<float> enroll = Embed(model, device, train);
    std::vector<float> probe = Embed(model, device, holdout);
    report.cross_session = EvaluateVerification(enroll, train.users, probe, holdout.users, dim);
    report.has_cross_session = report.cross_session.probes > 0;
    report.cross_session_groups =
        ByGroup(enroll, train.users, group_templates ? &train.sessions : nullptr, probe,
                holdout.users, holdout.sessions, session_groups, dim, non_overlap_skip,
                &report.cross_session_groups_fused);
    if (group_templates) {
      report.cross_session_own_group =
          OwnGroup(enroll, train.users, train.sessions, probe, holdout.users, holdout.sessions,
                   group_of_session, dim, non_overlap_skip,
                   &report.cross_session_own_group_fused);
      report.has_cross_session_own_group = report.cross_session_own_group.probes > 0;
    }
    report.cross_session_fused = Fused(enroll, train.users, probe, holdout.users,
                                       holdout.sessions, dim, non_overlap_skip);
  }
  return report;
}

Evaluator::Evaluator(std::vector<std::string> servers, std::string fingerprint,
                     ClientOptions client, std::vector<bool> enroll_session,
                     std::vector<std::vector<std::string>> session_groups,
                     int non_overlap_skip, bool group_templates)
    : servers_(std::move(servers)),
      fingerprint_(std::move(fingerprint)),
      client_(std::move(client)),
      enroll_session_(std::move(enroll_session)),
      session_groups_(std::move(session_groups)),
      non_overlap_skip_(std::max(non_overlap_skip, 1)),
      group_templates_(group_templates) {}

absl::Status Evaluator::FetchOnce() {
  if (fetched_) return absl::OkStatus();
  for (auto [split, target] : {std::pair{v1::SPLIT_TEST, &test_},
                               std::pair{v1::SPLIT_TRAIN, &train_},
                               std::pair{v1::SPLIT_HOLDOUT, &holdout_},
                               std::pair{v1::SPLIT_VAL, &validation_}}) {
    absl::StatusOr<WindowSet> windows = FetchWindows(servers_, split, fingerprint_, client_);
    if (!windows.ok()) return windows.status();
    *target = *std::move(windows);
  }
  if (holdout_.size() == 0) train_ = WindowSet();  // Only used for cross-session.
  fetched_ = true;
  return absl::OkStatus();
}

absl::StatusOr<EvalReport> Evaluator::Run(Tcn& model, const torch::Device& device) {
  if (absl::Status s = FetchOnce(); !s.ok()) return s;
  try {
    EvalReport report = Evaluate(model, device, test_, train_, holdout_, enroll_session_,
                                 session_groups_, non_overlap_skip_, group_templates_);
    if (validation_.size() > 0) {
      EvalReport v = Evaluate(model, device, validation_, {}, {}, enroll_session_, {},
                              non_overlap_skip_);
      report.has_validation = v.has_open_set;
      report.validation = v.open_set;
    }
    return report;
  } catch (const c10::Error& e) {
    return absl::InternalError(
        absl::StrCat("evaluation failed: ", e.what_without_backtrace()));
  }
}

}  // namespace tripletstream
