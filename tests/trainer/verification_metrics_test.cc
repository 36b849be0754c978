#include "trainer/verification_metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace tripletstream {
namespace {

TEST(EerTest, SeparableScoresHaveZeroEer) {
  EerResult r = ComputeEer({0.9f, 0.8f, 0.7f}, {0.1f, 0.2f, 0.3f});
  EXPECT_DOUBLE_EQ(r.eer, 0.0);
  EXPECT_GT(r.threshold, 0.3f);
  EXPECT_LE(r.threshold, 0.7f);
}

TEST(EerTest, WorkedExample) {
  // Genuine 0.9 0.6 0.4 0.2; impostor 0.8 0.5 0.3 0.1. At t = 0.4:
  // FRR = 1/4 (0.2 rejected), FAR = 2/4 (0.8, 0.5 accepted); at t = 0.5:
  // FRR = 2/4, FAR = 2/4 -> EER 0.5 exactly where the curves meet.
  EerResult r = ComputeEer({0.9f, 0.6f, 0.4f, 0.2f}, {0.8f, 0.5f, 0.3f, 0.1f});
  EXPECT_DOUBLE_EQ(r.eer, 0.5);
  EXPECT_FLOAT_EQ(r.threshold, 0.5f);
}

TEST(EerTest, IdenticalDistributionsGiveAboutHalf) {
  std::vector<float> a, b;
  for (int i = 0; i < 100; ++i) {
    a.push_back(i / 100.0f);
    b.push_back(i / 100.0f + 0.001f);
  }
  EXPECT_NEAR(ComputeEer(a, b).eer, 0.5, 0.02);
}

TEST(EerTest, ThresholdAtFarAdmitsAtMostThatShare) {
  std::vector<float> impostor = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f, 0.9f, 1.0f};
  double t = ThresholdAtFar(impostor, 0.2);
  int accepted = 0;
  for (float s : impostor) accepted += s >= t;
  EXPECT_EQ(accepted, 2);
}

TEST(DetCurveTest, RunsFromAcceptAllToRejectAllMonotonically) {
  const std::vector<float> genuine = {0.9f, 0.8f, 0.7f, 0.95f};
  const std::vector<float> impostor = {0.1f, 0.2f, 0.3f, 0.75f, 0.05f};
  const std::vector<DetPoint> curve = DetCurve(genuine, impostor, 16);
  ASSERT_EQ(curve.size(), 16u);
  EXPECT_DOUBLE_EQ(curve.front().far, 1.0);
  EXPECT_DOUBLE_EQ(curve.front().frr, 0.0);
  EXPECT_DOUBLE_EQ(curve.back().far, 0.0);
  EXPECT_DOUBLE_EQ(curve.back().frr, 1.0);
  for (size_t i = 1; i < curve.size(); ++i) {
    EXPECT_LE(curve[i].far, curve[i - 1].far);
    EXPECT_GE(curve[i].frr, curve[i - 1].frr);
  }
  // One impostor (0.75) scores above a genuine score (0.7): no threshold
  // separates them, but separable lists reach (0, 0).
  bool perfect = false;
  for (const DetPoint& p : curve) perfect |= p.far == 0 && p.frr == 0;
  EXPECT_FALSE(perfect);
  perfect = false;
  for (const DetPoint& p : DetCurve({0.9f, 0.8f}, {0.1f, 0.2f}, 9)) {
    perfect |= p.far == 0 && p.frr == 0;
  }
  EXPECT_TRUE(perfect);
  EXPECT_TRUE(DetCurve({}, {0.1f}).empty());
}

// Two users whose walking and jogging look alike across users but are
// distinct within each activity: pooled templates cannot tell them apart,
// per-activity templates can.
TEST(VerificationTest, PerGroupTemplatesScoreProbesAgainstTheirOwnGroup) {
  // dim 2; group 0: A=(1,0), B=(0,1); group 1: A=(0,1), B=(1,0).
  const std::vector<float> enroll = {1, 0, 0, 1, 0, 1, 1, 0};
  const std::vector<int32_t> enroll_users = {0, 1, 0, 1};
  const std::vector<int32_t> enroll_groups = {0, 0, 1, 1};
  const std::vector<float> probe = {0.9f, 0.1f, 0.1f, 0.9f, 0.1f, 0.9f, 0.9f, 0.1f, 1, 0};
  const std::vector<int32_t> probe_users = {0, 1, 0, 1, 0};
  const std::vector<int32_t> probe_groups = {0, 0, 1, 1, -1};  // The last has no group.
  const VerificationResult pooled =
      EvaluateVerification(enroll, enroll_users, probe, probe_users, 2);
  EXPECT_GE(pooled.eer_pct, 40);
  const VerificationResult own = EvaluateGroupedVerification(
      enroll, enroll_users, enroll_groups, probe, probe_users, probe_groups, 2);
  EXPECT_EQ(own.probes, 4);
  EXPECT_EQ(own.users, 2);
  EXPECT_DOUBLE_EQ(own.eer_pct, 0);
  EXPECT_DOUBLE_EQ(own.top1_pct, 100);
  // A group nobody enrolled in scores nothing.
  const VerificationResult none = EvaluateGroupedVerification(
      enroll, enroll_users, {0, 0, 0, 0}, probe, probe_users, {1, 1, 1, 1, 1}, 2);
  EXPECT_EQ(none.probes, 0);
}

TEST(VerificationTest, TemplatesScoresAndTopOne) {
  // 2-D unit embeddings. User 0 near (1,0), user 1 near (0,1).
  std::vector<float> enroll = {1, 0, 0.8f, 0.6f, 0, 1};
  std::vector<int32_t> enroll_users = {0, 0, 1};
  // Templates: user 0 = normalize((0.9, 0.3)) = (0.949, 0.316), user 1 = (0, 1).
  // Probe 1 of user 0 at (0.4, 0.9) scores 0.664 against its own template and
  // 0.9 against user 1's: a top-1 miss. Genuine scores {0.993, 0.664, 0.990},
  // impostor {0.200, 0.900, 0.408}: at t = 0.9, FRR = FAR = 1/3.
  std::vector<float> probe = {0.98f, 0.2f, 0.4f, 0.9f, 0.1f, 0.99f};
  std::vector<int32_t> probe_users = {0, 0, 1};
  VerificationResult r = EvaluateVerification(enroll, enroll_users, probe, probe_users, 2);
  EXPECT_EQ(r.users, 2);
  EXPECT_EQ(r.probes, 3);
  EXPECT_NEAR(r.top1_pct, 200.0 / 3, 1e-9);
  EXPECT_NEAR(r.eer_pct, 100.0 / 3, 1e-9);
  EXPECT_NEAR(r.threshold, 0.9, 1e-6);
}

TEST(VerificationTest, ProbesOfUnenrolledUsersAreSkipped) {
  VerificationResult r =
      EvaluateVerification({1, 0, 0, 1}, {0, 1}, {1, 0, 0.7f, 0.7f}, {0, 5}, 2);
  EXPECT_EQ(r.probes, 1);
  EXPECT_DOUBLE_EQ(r.top1_pct, 100);
}

}  // namespace
}  // namespace tripletstream

namespace tripletstream {
namespace {

TEST(FuseProbesTest, AveragesNonOverlappingWindowsWithinEachSession) {
  // dim 2; user 0 session 0 has 5 windows, user 1 session 1 has 3.
  const std::vector<float> e = {1, 0, 9, 9, 0, 1, 9, 9, 1, 0,  // session 0 (odd rows overlap)
                                0, 1, 5, 5, 0, 1};             // session 1
  const std::vector<int32_t> users = {0, 0, 0, 0, 0, 1, 1, 1};
  const std::vector<int32_t> sessions = {0, 0, 0, 0, 0, 1, 1, 1};
  // skip 2 keeps rows 0, 2, 4 and 5, 7; pairs: (0, 2) of session 0, (5, 7) of session 1.
  Probes fused = FuseProbes(e, users, sessions, 2, 2, 2);
  ASSERT_EQ(fused.size(), 2);
  EXPECT_EQ(fused.users, (std::vector<int32_t>{0, 1}));
  EXPECT_NEAR(fused.embeddings[0], std::sqrt(0.5), 1e-6);  // mean of (1,0), (0,1), unit norm
  EXPECT_NEAR(fused.embeddings[1], std::sqrt(0.5), 1e-6);
  EXPECT_NEAR(fused.embeddings[2], 0, 1e-6);               // (0,1) twice
  EXPECT_NEAR(fused.embeddings[3], 1, 1e-6);
  // n = 1, skip = 1: the rows themselves (unit norm); n larger than any
  // session: none.
  Probes same = FuseProbes(e, users, sessions, 2, 1, 1);
  ASSERT_EQ(same.size(), 8);
  EXPECT_EQ(same.users, users);
  EXPECT_NEAR(same.embeddings[2], std::sqrt(0.5), 1e-6);  // (9, 9) normalized
  EXPECT_EQ(same.embeddings[4], 0.0f);
  EXPECT_EQ(same.embeddings[5], 1.0f);
  EXPECT_EQ(FuseProbes(e, users, sessions, 2, 4, 2).size(), 0);
}

TEST(FuseProbesTest, FusingReducesErrorsOfNoisyWindows) {
  // Two users whose windows are their direction plus noise: single windows
  // get confused, fused probes much less.
  std::vector<float> enroll = {1, 0, 0, 1};
  std::vector<int32_t> enroll_users = {0, 1};
  std::vector<float> probe;
  std::vector<int32_t> users, sessions;
  for (int u = 0; u < 2; ++u) {
    for (int i = 0; i < 40; ++i) {
      const float noise = (i % 4 == 0) ? 1.2f : 0.1f;  // every 4th window misleads
      const float a = u == 0 ? 1 : noise, b = u == 0 ? noise : 1;
      const float norm = std::sqrt(a * a + b * b);
      probe.push_back(a / norm);
      probe.push_back(b / norm);
      users.push_back(u);
      sessions.push_back(u);
    }
  }
  auto single = EvaluateVerification(enroll, enroll_users, probe, users, 2);
  Probes fused = FuseProbes(probe, users, sessions, 2, 5, 1);
  auto five = EvaluateVerification(enroll, enroll_users, fused.embeddings, fused.users, 2);
  EXPECT_LT(single.top1_pct, 100);
  EXPECT_EQ(five.top1_pct, 100);
}

}  // namespace
}  // namespace tripletstream
