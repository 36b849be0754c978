#include "trainer/run_log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tests/testing/temp_dir.h"
#include "trainer/trainer_metrics.h"

namespace tripletstream {
namespace {

using ::testing::HasSubstr;

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(RunLogTest, WritesOneJsonRecordPerIntervalAndAccountsTheStall) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/metrics.jsonl";
  TrainerMetrics live;
  RunLog log(path, /*log_every=*/2, /*total_steps=*/4, /*margin=*/0.5, &live);
  BatchStreamStats stream;
  stream.servers = {"a:1"};
  stream.batches_per_server = {4};
  for (int step = 1; step <= 4; ++step) {
    StepRecord r;
    r.step = step;
    r.loss = step;  // Interval means: 1.5, then 3.5.
    r.anchors = 10;
    r.wait_s = 0.25;
    r.step_s = 1.0;
    log.Step(r, stream);
  }
  EXPECT_EQ(log.triplets(), 40);
  EXPECT_DOUBLE_EQ(log.stall().total_pct(), 25.0);
  EXPECT_EQ(live.steps(), 4);
  const auto lines = Lines(path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[0], HasSubstr("\"step\": 2"));
  EXPECT_THAT(lines[0], HasSubstr("\"loss\": 1.500000"));
  EXPECT_THAT(lines[0], HasSubstr("\"data_stall_pct\": 25.000"));
  EXPECT_THAT(lines[1], HasSubstr("\"loss\": 3.500000"));
}

TEST(RunLogTest, EvaluationRecordHasEveryProtocolAndGroup) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/metrics.jsonl";
  RunLog log(path, 0, 10, 0.5, nullptr);
  EvalReport report;
  report.has_open_set = true;
  report.open_set.eer_pct = 12.5;
  report.has_cross_session = true;
  report.cross_session.top1_pct = 90;
  report.cross_session_groups["wlk"].eer_pct = 3;
  log.Eval(report, 7);
  const auto lines = Lines(path);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], HasSubstr("{\"step\": 7, \"eer_pct\": 12.5000"));
  EXPECT_THAT(lines[0], HasSubstr("\"cross_top1_pct\": 90.0000"));
  EXPECT_THAT(lines[0], HasSubstr("\"cross_session_groups\": {\"wlk\": {\"eer_pct\": 3.0000"));
  EXPECT_EQ(report.headline(), &report.open_set);
}

}  // namespace
}  // namespace tripletstream
