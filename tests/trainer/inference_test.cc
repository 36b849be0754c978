#include "trainer/inference.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/testing/temp_dir.h"

namespace tripletstream {
namespace {

using ::testing::HasSubstr;

CheckpointMeta Meta() {
  CheckpointMeta meta;
  meta.model_config = "in=2 ch=4 lv=2 k=3 do=0 emb=4 wn=1";
  meta.fingerprint = "00112233aabbccdd";
  meta.window_length = 4;
  meta.channel_names = {"y", "x"};  // Order of the model's channels.
  meta.norm_mean = {10, 1};
  meta.norm_std = {2, 1};
  return meta;
}

TEST(InferenceTest, ModelConfigRoundTrips) {
  auto options = ParseTcnOptions(Meta().model_config);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->ToString(), Meta().model_config);
  EXPECT_TRUE(options->weight_norm);
  EXPECT_FALSE(ParseTcnOptions("channels=4").ok());
}

TEST(InferenceTest, CsvWindowsUseTheCheckpointsChannelsAndStatistics) {
  testing::TempDir dir;
  // Columns in another order than the model's, plus an unused one.
  std::string text = "x,t,y\n";
  for (int r = 0; r < 6; ++r) text += absl::StrCat(r + 1, ",0,", 10 + 2 * r, "\n");
  std::string file = dir.WriteFile("a.csv", text);
  auto windows = WindowsFromCsv({file}, Meta(), 2);
  ASSERT_TRUE(windows.ok()) << windows.status();
  EXPECT_EQ(windows->size(), 2);  // Offsets 0 and 2 of 6 rows.
  EXPECT_EQ(windows->length, 4);
  ASSERT_EQ(windows->values.size(), 2u * 4 * 2);
  // Row r: y = (10 + 2r - 10) / 2 = r, x = (r + 1 - 1) / 1 = r.
  EXPECT_FLOAT_EQ(windows->values[0], 0);
  EXPECT_FLOAT_EQ(windows->values[2], 1);
  EXPECT_FLOAT_EQ(windows->values[3], 1);
  EXPECT_FLOAT_EQ(windows->values[8], 2);  // Second window starts at row 2.

  std::string short_file = dir.WriteFile("b.csv", "x,y\n1,2\n");
  auto too_short = WindowsFromCsv({short_file}, Meta(), 2);
  ASSERT_FALSE(too_short.ok());
  EXPECT_THAT(too_short.status().message(), HasSubstr("b.csv"));
  std::string missing = dir.WriteFile("c.csv", "x,z\n1,2\n");
  EXPECT_THAT(WindowsFromCsv({missing}, Meta(), 2).status().message(), HasSubstr("'y'"));
}

TEST(InferenceTest, MeanTemplateIsTheNormalizedMean) {
  std::vector<float> values = MeanTemplate({1, 0, 0, 1}, 2);
  ASSERT_EQ(values.size(), 2u);
  EXPECT_NEAR(values[0], std::sqrt(0.5), 1e-6);
  EXPECT_NEAR(values[1], std::sqrt(0.5), 1e-6);
}

}  // namespace
}  // namespace tripletstream
