#include "trainer/trainer_metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "metrics/metrics_registry.h"
#include "tests/testing/prometheus_text.h"

namespace tripletstream {
namespace {

constexpr char kSteps[] = "tripletstream_trainer_steps";
constexpr char kStepSeconds[] = "tripletstream_trainer_step_seconds";
constexpr char kStepSecondsTotal[] = "tripletstream_trainer_step_seconds_total";
constexpr char kWaitSecondsTotal[] = "tripletstream_trainer_input_wait_seconds_total";
constexpr char kStallRatio[] = "tripletstream_trainer_data_stall_ratio";
constexpr char kLoss[] = "tripletstream_trainer_loss";
constexpr char kEer[] = "tripletstream_trainer_eer_percent";
constexpr char kTop1[] = "tripletstream_trainer_top1_percent";
constexpr char kCrossEer[] = "tripletstream_trainer_cross_session_eer_percent";
constexpr char kReconnects[] = "tripletstream_trainer_reconnects_total";
constexpr char kBatches[] = "tripletstream_trainer_batches_received_total";
constexpr char kAllReduce[] = "tripletstream_trainer_allreduce_seconds_total";

// Renders `registry` and parses it strictly; a parse failure fails the test
// and yields an empty scrape.
testing::ParsedMetrics Scrape(const MetricsRegistry& registry) {
  const std::string text = registry.Render();
  auto parsed = testing::ParsePrometheusText(text);
  EXPECT_TRUE(parsed.ok()) << parsed.status() << "\n" << text;
  return parsed.ok() ? *parsed : testing::ParsedMetrics();
}

std::string Batches(const std::string& server) {
  return std::string(kBatches) + "{server=\"" + server + "\"}";
}

class TrainerMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(metrics_.Register(&registry_).ok()); }

  TrainerMetrics metrics_;
  MetricsRegistry registry_;
};

TEST_F(TrainerMetricsTest, RegistersEveryFamilyWithItsType) {
  const testing::ParsedMetrics scrape = Scrape(registry_);
  for (const char* gauge : {kSteps, kStepSeconds, kStallRatio, kLoss, kEer, kTop1, kCrossEer}) {
    ASSERT_EQ(scrape.types.count(gauge), 1u) << gauge;
    EXPECT_EQ(scrape.types.at(gauge), "gauge") << gauge;
    EXPECT_FALSE(scrape.help.at(gauge).empty()) << gauge;
  }
  for (const char* counter :
       {kStepSecondsTotal, kWaitSecondsTotal, kReconnects, kBatches, kAllReduce}) {
    ASSERT_EQ(scrape.types.count(counter), 1u) << counter;
    EXPECT_EQ(scrape.types.at(counter), "counter") << counter;
    EXPECT_FALSE(scrape.help.at(counter).empty()) << counter;
  }
  EXPECT_EQ(scrape.types.size(), 12u);
}

TEST(TrainerMetricsRankTest, DataParallelRanksLabelEverySampleWithTheirRank) {
  TrainerMetrics metrics;
  MetricsRegistry registry;
  ASSERT_TRUE(metrics.Register(&registry, 1).ok());
  metrics.RecordStep(7, 0.5, 0.1, 0.25);
  metrics.RecordAllReduce(0.2);
  metrics.RecordAllReduce(0.1);
  metrics.RecordReceived({"a:1"}, {3}, 0);
  const testing::ParsedMetrics scrape = Scrape(registry);
  EXPECT_EQ(scrape.Get(std::string(kSteps) + "{rank=\"1\"}"), 7);
  EXPECT_NEAR(scrape.Get(std::string(kAllReduce) + "{rank=\"1\"}"), 0.3, 1e-12);
  EXPECT_EQ(scrape.Get(std::string(kBatches) + "{rank=\"1\",server=\"a:1\"}"), 3);
  EXPECT_EQ(scrape.samples.count(kSteps), 0u);  // No unlabelled sample.
}

TEST_F(TrainerMetricsTest, StartsAtZeroWithNoEvaluationAndNoServers) {
  const testing::ParsedMetrics scrape = Scrape(registry_);
  EXPECT_EQ(metrics_.steps(), 0);
  EXPECT_EQ(scrape.Get(kSteps), 0);
  EXPECT_EQ(scrape.Get(kStepSeconds), 0);
  EXPECT_EQ(scrape.Get(kStepSecondsTotal), 0);
  EXPECT_EQ(scrape.Get(kWaitSecondsTotal), 0);
  // No step time yet: the ratio is 0, not 0/0.
  EXPECT_EQ(scrape.Get(kStallRatio), 0);
  EXPECT_EQ(scrape.Get(kLoss), 0);
  EXPECT_EQ(scrape.Get(kReconnects), 0);
  EXPECT_TRUE(std::isnan(scrape.Get(kEer)));
  EXPECT_TRUE(std::isnan(scrape.Get(kTop1)));
  EXPECT_TRUE(std::isnan(scrape.Get(kCrossEer)));
  for (const auto& [key, value] : scrape.samples) {
    EXPECT_NE(key.rfind(kBatches, 0), 0u) << "unexpected sample " << key;
  }
}

TEST_F(TrainerMetricsTest, RecordStepKeepsTheLastStepAndSumsTimes) {
  metrics_.RecordStep(1, 0.5, 0.125, 2.75);
  metrics_.RecordStep(2, 1.5, 0.375, 1.25);
  const testing::ParsedMetrics scrape = Scrape(registry_);
  EXPECT_EQ(metrics_.steps(), 2);
  EXPECT_EQ(scrape.Get(kSteps), 2);
  EXPECT_EQ(scrape.Get(kStepSeconds), 1.5);
  EXPECT_EQ(scrape.Get(kStepSecondsTotal), 2.0);
  EXPECT_EQ(scrape.Get(kWaitSecondsTotal), 0.5);
  EXPECT_EQ(scrape.Get(kStallRatio), 0.25);  // 0.5 s waiting of 2 s in steps.
  EXPECT_EQ(scrape.Get(kLoss), 1.25);
}

TEST_F(TrainerMetricsTest, StepsIsTheRecordedStepNumberSoResumedRunsCountEarlierOnes) {
  // A run resumed from a checkpoint at step 1000 records step 1001 first.
  metrics_.RecordStep(1001, 0.25, 0.0, 0.5);
  const testing::ParsedMetrics scrape = Scrape(registry_);
  EXPECT_EQ(metrics_.steps(), 1001);
  EXPECT_EQ(scrape.Get(kSteps), 1001);
  // Times cover this process only: one step.
  EXPECT_EQ(scrape.Get(kStepSecondsTotal), 0.25);
  EXPECT_EQ(scrape.Get(kStallRatio), 0);
}

TEST_F(TrainerMetricsTest, StallRatioIsOneWhenStepsOnlyWait) {
  metrics_.RecordStep(1, 0.75, 0.75, 1.0);
  metrics_.RecordStep(2, 0.25, 0.25, 1.0);
  EXPECT_EQ(Scrape(registry_).Get(kStallRatio), 1.0);
}

TEST_F(TrainerMetricsTest, RecordEvalExposesTheLatestEvaluation) {
  metrics_.RecordEval(12.5, 87.5, 20.25, 75.0);
  testing::ParsedMetrics scrape = Scrape(registry_);
  EXPECT_EQ(scrape.Get(kEer), 12.5);
  EXPECT_EQ(scrape.Get(kTop1), 87.5);
  EXPECT_EQ(scrape.Get(kCrossEer), 20.25);

  metrics_.RecordEval(6.25, 93.75, 10.5, 80.0);
  scrape = Scrape(registry_);
  EXPECT_EQ(scrape.Get(kEer), 6.25);
  EXPECT_EQ(scrape.Get(kTop1), 93.75);
  EXPECT_EQ(scrape.Get(kCrossEer), 10.5);
}

TEST_F(TrainerMetricsTest, NegativeEvaluationValuesAreNotMeasured) {
  // Open-set measured, no cross-session split.
  metrics_.RecordEval(12.5, 87.5, -1, -1);
  testing::ParsedMetrics scrape = Scrape(registry_);
  EXPECT_EQ(scrape.Get(kEer), 12.5);
  EXPECT_EQ(scrape.Get(kTop1), 87.5);
  EXPECT_TRUE(std::isnan(scrape.Get(kCrossEer)));

  // A later evaluation that does not measure a figure clears it.
  metrics_.RecordEval(-1, -1, 20.0, 70.0);
  scrape = Scrape(registry_);
  EXPECT_TRUE(std::isnan(scrape.Get(kEer)));
  EXPECT_TRUE(std::isnan(scrape.Get(kTop1)));
  EXPECT_EQ(scrape.Get(kCrossEer), 20);
}

TEST_F(TrainerMetricsTest, ZeroEvaluationValuesAreMeasured) {
  metrics_.RecordEval(0, 0, 0, 0);
  const testing::ParsedMetrics scrape = Scrape(registry_);
  EXPECT_EQ(scrape.Get(kEer), 0);
  EXPECT_EQ(scrape.Get(kTop1), 0);
  EXPECT_EQ(scrape.Get(kCrossEer), 0);
}

TEST_F(TrainerMetricsTest, RecordReceivedLabelsBatchesByServer) {
  metrics_.RecordReceived({"10.0.0.1:50051", "[::1]:50052"}, {3, 4}, 1);
  const testing::ParsedMetrics scrape = Scrape(registry_);
  EXPECT_EQ(scrape.Get(Batches("10.0.0.1:50051")), 3);
  EXPECT_EQ(scrape.Get(Batches("[::1]:50052")), 4);
  EXPECT_EQ(scrape.Get(kReconnects), 1);
}

TEST_F(TrainerMetricsTest, RecordReceivedReplacesRunTotalsInsteadOfAddingThem) {
  metrics_.RecordReceived({"a:1", "b:2"}, {3, 4}, 1);
  metrics_.RecordReceived({"a:1", "b:2"}, {5, 9}, 2);
  const testing::ParsedMetrics scrape = Scrape(registry_);
  EXPECT_EQ(scrape.Get(Batches("a:1")), 5);
  EXPECT_EQ(scrape.Get(Batches("b:2")), 9);
  EXPECT_EQ(scrape.Get(kReconnects), 2);
}

TEST_F(TrainerMetricsTest, RecordReceivedShowsOnlyTheLatestServers) {
  metrics_.RecordReceived({"a:1", "b:2"}, {3, 4}, 0);
  metrics_.RecordReceived({"b:2"}, {7}, 0);
  const testing::ParsedMetrics scrape = Scrape(registry_);
  EXPECT_EQ(scrape.samples.count(Batches("a:1")), 0u);
  EXPECT_EQ(scrape.Get(Batches("b:2")), 7);
}

TEST_F(TrainerMetricsTest, RecordersDoNotTouchEachOthersFigures) {
  metrics_.RecordStep(3, 0.5, 0.25, 0.75);
  metrics_.RecordEval(10, 90, 15, 85);
  metrics_.RecordReceived({"a:1"}, {42}, 3);
  const testing::ParsedMetrics scrape = Scrape(registry_);
  EXPECT_EQ(scrape.Get(kSteps), 3);
  EXPECT_EQ(scrape.Get(kLoss), 0.75);
  EXPECT_EQ(scrape.Get(kStallRatio), 0.5);
  EXPECT_EQ(scrape.Get(kEer), 10);
  EXPECT_EQ(scrape.Get(kTop1), 90);
  EXPECT_EQ(scrape.Get(kCrossEer), 15);
  EXPECT_EQ(scrape.Get(Batches("a:1")), 42);
  EXPECT_EQ(scrape.Get(kReconnects), 3);
}

TEST(TrainerMetricsRegisterTest, FailsOnARegistryThatAlreadyHasTheFamilies) {
  MetricsRegistry registry;
  TrainerMetrics first, second;
  ASSERT_TRUE(first.Register(&registry).ok());
  const absl::Status again = second.Register(&registry);
  EXPECT_EQ(again.code(), absl::StatusCode::kInvalidArgument) << again;
}

}  // namespace
}  // namespace tripletstream
