#include "trainer/evaluation.h"

#include <gtest/gtest.h>

namespace tripletstream {
namespace {

// 3 users x 3 sessions x 2 windows of 16 x 2 random values.
WindowSet MakeWindows(int sessions_per_user, uint64_t seed, int windows_per_session = 2) {
  torch::manual_seed(seed);
  WindowSet set;
  set.length = 16;
  set.channels = 2;
  for (int u = 0; u < 3; ++u) {
    for (int s = 0; s < sessions_per_user; ++s) {
      for (int w = 0; w < windows_per_session; ++w) {
        torch::Tensor x = torch::randn({16 * 2}) + u;
        set.values.insert(set.values.end(), x.data_ptr<float>(), x.data_ptr<float>() + 32);
        set.users.push_back(u);
        set.sessions.push_back(s);
      }
    }
  }
  return set;
}

Tcn SmallModel() {
  TcnOptions o;
  o.in_channels = 2;
  o.channels = 4;
  o.levels = 2;
  o.embedding = 4;
  torch::manual_seed(1);
  return Tcn(o);
}

TEST(EvaluationTest, OpenSetEnrollsFirstHalfOfSessionsByDefault) {
  Tcn model = SmallModel();
  EvalReport r = Evaluate(model, torch::kCPU, MakeWindows(3, 2), {}, {});
  ASSERT_TRUE(r.has_open_set);
  EXPECT_FALSE(r.has_cross_session);
  EXPECT_EQ(r.open_set.users, 3);
  EXPECT_EQ(r.open_set.probes, 3 * 1 * 2);  // Sessions 0, 1 enroll; 2 probes.
}

TEST(EvaluationTest, OpenSetFollowsTheEnrollSessionMask) {
  Tcn model = SmallModel();
  EvalReport r = Evaluate(model, torch::kCPU, MakeWindows(3, 2), {}, {}, {true, false, false});
  ASSERT_TRUE(r.has_open_set);
  EXPECT_EQ(r.open_set.probes, 3 * 2 * 2);
}

TEST(EvaluationTest, FusedProbesTakeNonOverlappingWindowsOfOneSession) {
  Tcn model = SmallModel();
  // 6 windows per session, skip 2: 3 non-overlapping windows per session.
  EvalReport r = Evaluate(model, torch::kCPU, MakeWindows(3, 2, 6), {}, {}, {true, false, false},
                          {{"a"}, {"a"}, {"b"}}, /*non_overlap_skip=*/2);
  ASSERT_EQ(r.open_set_fused.count(3), 1u);
  EXPECT_EQ(r.open_set_fused.at(3).probes, 3 * 2);  // One per probe session.
  EXPECT_EQ(r.open_set_fused.count(5), 0u);          // No session has 5.
  EXPECT_EQ(r.open_set.probes, 3 * 2 * 6);
  // Per session group too: sessions 1 ("a") and 2 ("b") probe.
  ASSERT_EQ(r.open_set_groups_fused.count("b"), 1u);
  EXPECT_EQ(r.open_set_groups_fused.at("b").at(3).probes, 3);
}

TEST(EvaluationTest, CrossSessionScoresHoldoutAgainstTrainTemplates) {
  Tcn model = SmallModel();
  EvalReport r = Evaluate(model, torch::kCPU, {}, MakeWindows(2, 3), MakeWindows(1, 4));
  EXPECT_FALSE(r.has_open_set);
  ASSERT_TRUE(r.has_cross_session);
  EXPECT_EQ(r.cross_session.probes, 3 * 1 * 2);
  EXPECT_EQ(r.cross_session.users, 3);
}

TEST(EvaluationTest, EmbedKeepsTheTrainingMode) {
  Tcn model = SmallModel();
  model->train();
  std::vector<float> e = Embed(model, torch::kCPU, MakeWindows(1, 5));
  EXPECT_EQ(e.size(), 3u * 2 * 4);
  EXPECT_TRUE(model->is_training());
}

}  // namespace
}  // namespace tripletstream

namespace tripletstream {
namespace {

TEST(EvaluationTest, ScoresAreBrokenDownBySessionGroup) {
  Tcn model = SmallModel();
  // Sessions 0 and 1 are group "a", session 2 is "b", sessions 1 and 2 are
  // also "all"; session 0 enrolls.
  EvalReport r = Evaluate(model, torch::kCPU, MakeWindows(3, 2), {}, {}, {true, false, false},
                          {{"a"}, {"a", "all"}, {"b", "all"}});
  ASSERT_EQ(r.open_set_groups.size(), 3u);
  EXPECT_EQ(r.open_set_groups.at("a").probes, 3 * 1 * 2);
  EXPECT_EQ(r.open_set_groups.at("b").probes, 3 * 1 * 2);
  EXPECT_EQ(r.open_set_groups.at("all").probes, 3 * 2 * 2);
  EXPECT_DOUBLE_EQ(r.open_set_groups.at("all").eer_pct, r.open_set.eer_pct);
  EvalReport none = Evaluate(model, torch::kCPU, MakeWindows(3, 2), {}, {});
  EXPECT_TRUE(none.open_set_groups.empty());
}

TEST(EvaluationTest, GroupTemplatesScoreEachProbeAgainstItsOwnGroup) {
  Tcn model = SmallModel();
  // Sessions 0, 1 are group "a", 2, 3 group "b" (3 is also in "all", a
  // second entry that does not pick its template group); 0 and 2 enroll.
  const std::vector<std::vector<std::string>> groups = {{"a"}, {"a"}, {"b"}, {"b", "all"}};
  const WindowSet windows = MakeWindows(4, 3);
  EvalReport pooled = Evaluate(model, torch::kCPU, windows, {}, {}, {true, false, true, false},
                               groups);
  EXPECT_FALSE(pooled.has_open_set_own_group);
  EvalReport own = Evaluate(model, torch::kCPU, windows, {}, {}, {true, false, true, false},
                            groups, 1, /*group_templates=*/true);
  ASSERT_TRUE(own.has_open_set_own_group);
  EXPECT_EQ(own.open_set_own_group.probes, 3 * 2 * 2);  // Users x probe sessions x windows.
  EXPECT_EQ(own.open_set_own_group.users, 3);
  // Group "a" scored against templates from session 0 only: the same as
  // evaluating sessions 0 and 1 alone.
  WindowSet only_a;
  only_a.length = windows.length;
  only_a.channels = windows.channels;
  for (int64_t i = 0; i < windows.size(); ++i) {
    if (windows.sessions[i] > 1) continue;
    only_a.values.insert(only_a.values.end(), windows.values.begin() + i * 32,
                         windows.values.begin() + (i + 1) * 32);
    only_a.users.push_back(windows.users[i]);
    only_a.sessions.push_back(windows.sessions[i]);
  }
  EvalReport a = Evaluate(model, torch::kCPU, only_a, {}, {}, {true, false});
  EXPECT_DOUBLE_EQ(own.open_set_groups.at("a").eer_pct, a.open_set.eer_pct);
  EXPECT_DOUBLE_EQ(own.open_set_groups.at("a").top1_pct, a.open_set.top1_pct);
  // The pooled per-group figure covers both groups' probes.
  EXPECT_EQ(own.open_set_groups.at("a").probes + own.open_set_groups.at("b").probes,
            own.open_set_own_group.probes);
}

}  // namespace
}  // namespace tripletstream
