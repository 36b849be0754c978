#include "trainer/verification_metrics.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace tripletstream {

EerResult ComputeEer(std::vector<float> genuine, std::vector<float> impostor) {
  std::sort(genuine.begin(), genuine.end());
  std::sort(impostor.begin(), impostor.end());
  std::vector<float> thresholds = genuine;
  thresholds.insert(thresholds.end(), impostor.begin(), impostor.end());
  std::sort(thresholds.begin(), thresholds.end());
  thresholds.erase(std::unique(thresholds.begin(), thresholds.end()), thresholds.end());
  const double ng = static_cast<double>(genuine.size());
  const double ni = static_cast<double>(impostor.size());
  EerResult best;
  double best_gap = 2;
  for (float t : thresholds) {
    const double frr =
        (std::lower_bound(genuine.begin(), genuine.end(), t) - genuine.begin()) / ng;
    const double far =
        (impostor.end() - std::lower_bound(impostor.begin(), impostor.end(), t)) / ni;
    const double gap = std::abs(far - frr);
    if (gap < best_gap) {
      best_gap = gap;
      best.eer = (far + frr) / 2;
      best.threshold = t;
    }
  }
  return best;
}

std::vector<DetPoint> DetCurve(std::vector<float> genuine, std::vector<float> impostor,
                               int points) {
  std::vector<DetPoint> curve;
  if (genuine.empty() || impostor.empty() || points < 2) return curve;
  std::sort(genuine.begin(), genuine.end());
  std::sort(impostor.begin(), impostor.end());
  std::vector<float> all = genuine;
  all.insert(all.end(), impostor.begin(), impostor.end());
  std::sort(all.begin(), all.end());
  const double ng = static_cast<double>(genuine.size());
  const double ni = static_cast<double>(impostor.size());
  for (int i = 0; i < points; ++i) {
    // Threshold at quantile i / (points - 1); the last one accepts nothing.
    const size_t at = static_cast<size_t>(
        std::llround(static_cast<double>(i) / (points - 1) * (all.size() - 1)));
    const float t = i + 1 == points ? std::nextafter(all.back(), 1e30f) : all[at];
    DetPoint p;
    p.frr = (std::lower_bound(genuine.begin(), genuine.end(), t) - genuine.begin()) / ng;
    p.far = (impostor.end() - std::lower_bound(impostor.begin(), impostor.end(), t)) / ni;
    curve.push_back(p);
  }
  return curve;
}

double ThresholdAtFar(std::vector<float> impostor, double far) {
  std::sort(impostor.begin(), impostor.end());
  const size_t n = impostor.size();
  // Accepting scores >= t admits the impostors at or above t.
  const size_t allowed = static_cast<size_t>(std::floor(far * n));
  if (allowed >= n) return impostor.empty() ? 0.0 : impostor.front();
  return std::nextafter(impostor[n - allowed - 1], 1e30f);
}

namespace {

// Scores every probe against the templates (normalized mean enrollment
// embedding) of every user enrolled in `enroll_rows`; accumulates into the
// genuine and impostor lists, the top-1 count and the probe count.
struct ScoreSums {
  std::vector<float> genuine, impostor;
  int64_t correct = 0, probes = 0;
  std::set<int32_t> users;
};

void ScoreAgainstTemplates(const std::vector<float>& enroll,
                           const std::vector<int32_t>& enroll_users,
                           const std::vector<size_t>& enroll_rows,
                           const std::vector<float>& probe,
                           const std::vector<int32_t>& probe_users,
                           const std::vector<size_t>& probe_rows, int dim, ScoreSums* sums) {
  std::map<int32_t, std::vector<double>> totals;
  for (size_t i : enroll_rows) {
    std::vector<double>& sum = totals[enroll_users[i]];
    sum.resize(dim, 0.0);
    for (int d = 0; d < dim; ++d) sum[d] += enroll[i * dim + d];
  }
  std::vector<int32_t> users;
  std::vector<float> templates;
  for (auto& [user, sum] : totals) {
    double norm = 0;
    for (double v : sum) norm += v * v;
    norm = std::sqrt(std::max(norm, 1e-24));
    users.push_back(user);
    sums->users.insert(user);
    for (double v : sum) templates.push_back(static_cast<float>(v / norm));
  }
  for (size_t i : probe_rows) {
    const auto own = std::find(users.begin(), users.end(), probe_users[i]);
    if (own == users.end()) continue;
    const float* p = probe.data() + i * dim;
    float best = -2;
    int32_t best_user = -1;
    for (size_t u = 0; u < users.size(); ++u) {
      const float* t = templates.data() + u * dim;
      float score = 0;
      for (int d = 0; d < dim; ++d) score += p[d] * t[d];
      (users[u] == probe_users[i] ? sums->genuine : sums->impostor).push_back(score);
      if (score > best) {
        best = score;
        best_user = users[u];
      }
    }
    sums->correct += best_user == probe_users[i];
    ++sums->probes;
  }
}

VerificationResult Summarize(ScoreSums sums) {
  VerificationResult result;
  result.users = static_cast<int64_t>(sums.users.size());
  result.probes = sums.probes;
  if (result.probes == 0 || sums.impostor.empty()) return result;
  EerResult eer = ComputeEer(sums.genuine, sums.impostor);
  result.eer_pct = 100 * eer.eer;
  result.threshold = eer.threshold;
  result.top1_pct = 100.0 * sums.correct / result.probes;
  result.det = DetCurve(std::move(sums.genuine), std::move(sums.impostor));
  return result;
}

std::vector<size_t> AllRows(size_t n) {
  std::vector<size_t> rows(n);
  for (size_t i = 0; i < n; ++i) rows[i] = i;
  return rows;
}

}  // namespace

VerificationResult EvaluateVerification(const std::vector<float>& enroll,
                                        const std::vector<int32_t>& enroll_users,
                                        const std::vector<float>& probe,
                                        const std::vector<int32_t>& probe_users, int dim) {
  ScoreSums sums;
  ScoreAgainstTemplates(enroll, enroll_users, AllRows(enroll_users.size()), probe, probe_users,
                        AllRows(probe_users.size()), dim, &sums);
  return Summarize(std::move(sums));
}

VerificationResult EvaluateGroupedVerification(const std::vector<float>& enroll,
                                               const std::vector<int32_t>& enroll_users,
                                               const std::vector<int32_t>& enroll_groups,
                                               const std::vector<float>& probe,
                                               const std::vector<int32_t>& probe_users,
                                               const std::vector<int32_t>& probe_groups,
                                               int dim) {
  std::map<int32_t, std::vector<size_t>> enroll_rows, probe_rows;
  for (size_t i = 0; i < enroll_groups.size(); ++i) {
    if (enroll_groups[i] >= 0) enroll_rows[enroll_groups[i]].push_back(i);
  }
  for (size_t i = 0; i < probe_groups.size(); ++i) {
    if (probe_groups[i] >= 0) probe_rows[probe_groups[i]].push_back(i);
  }
  ScoreSums sums;
  for (const auto& [group, rows] : probe_rows) {
    auto enrolled = enroll_rows.find(group);
    if (enrolled == enroll_rows.end()) continue;
    ScoreAgainstTemplates(enroll, enroll_users, enrolled->second, probe, probe_users, rows, dim,
                          &sums);
  }
  return Summarize(std::move(sums));
}

Probes FuseProbes(const std::vector<float>& embeddings, const std::vector<int32_t>& users,
                  const std::vector<int32_t>& sessions, int dim, int n, int skip) {
  Probes out;
  n = std::max(n, 1);
  skip = std::max(skip, 1);
  const int64_t rows = static_cast<int64_t>(users.size());
  std::vector<double> sum(dim);
  for (int64_t start = 0; start < rows;) {
    int64_t end = start;
    while (end < rows && users[end] == users[start] && sessions[end] == sessions[start]) ++end;
    int taken = 0;
    std::fill(sum.begin(), sum.end(), 0.0);
    for (int64_t i = start; i < end; i += skip) {
      for (int d = 0; d < dim; ++d) sum[d] += embeddings[i * dim + d];
      if (++taken < n) continue;
      double norm = 0;
      for (double v : sum) norm += v * v;
      norm = std::sqrt(std::max(norm, 1e-24));
      for (int d = 0; d < dim; ++d) out.embeddings.push_back(static_cast<float>(sum[d] / norm));
      out.users.push_back(users[start]);
      out.sessions.push_back(sessions[start]);
      taken = 0;
      std::fill(sum.begin(), sum.end(), 0.0);
    }
    start = end;
  }
  return out;
}

}  // namespace tripletstream
