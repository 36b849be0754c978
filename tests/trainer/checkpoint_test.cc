#include "trainer/checkpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <limits>

#include "tests/testing/temp_dir.h"

namespace tripletstream {
namespace {

using ::testing::HasSubstr;

TcnOptions SmallOptions() {
  TcnOptions o;
  o.in_channels = 3;
  o.channels = 4;
  o.levels = 2;
  o.embedding = 4;
  return o;
}

CheckpointMeta SomeMeta() {
  CheckpointMeta meta;
  meta.model_config = SmallOptions().ToString();
  meta.fingerprint = "00112233aabbccdd";
  meta.loss_config = "loss=triplet";
  meta.seed = 7;
  meta.step = 12;
  meta.epoch = 1;
  meta.next_index = 5;
  meta.window_length = 32;
  meta.channel_names = {"x", "y", "z"};
  meta.norm_mean = {0.5f, -1.0f, 2.0f};
  meta.norm_std = {1.0f, 2.0f, 0.25f};
  meta.eer_threshold = 0.75;
  return meta;
}

TEST(CheckpointTest, RoundTripKeepsWeightsOptimizerAndMeta) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/checkpoint.pt";
  torch::manual_seed(1);
  Tcn saved(SmallOptions());
  torch::optim::AdamW optimizer(saved->parameters(), torch::optim::AdamWOptions(1e-3));
  ASSERT_TRUE(SaveCheckpoint(path, saved, optimizer, SomeMeta()).ok());

  auto meta = ReadCheckpointMeta(path);
  ASSERT_TRUE(meta.ok()) << meta.status();
  const CheckpointMeta expected = SomeMeta();
  EXPECT_EQ(meta->fingerprint, expected.fingerprint);
  EXPECT_EQ(meta->step, 12);
  EXPECT_EQ(meta->epoch, 1);
  EXPECT_EQ(meta->next_index, 5);
  EXPECT_EQ(meta->channel_names, expected.channel_names);
  EXPECT_EQ(meta->norm_mean, expected.norm_mean);
  EXPECT_EQ(meta->norm_std, expected.norm_std);
  EXPECT_DOUBLE_EQ(meta->eer_threshold, 0.75);
  EXPECT_TRUE(meta->group_thresholds.empty());

  torch::manual_seed(2);  // Different initial weights.
  Tcn loaded(SmallOptions());
  torch::optim::AdamW other(loaded->parameters(), torch::optim::AdamWOptions(1e-3));
  ASSERT_TRUE(LoadCheckpoint(path, loaded, &other).ok());
  auto a = saved->parameters();
  auto b = loaded->parameters();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], b[i])) << i;
}

TEST(CheckpointTest, KeepsAThresholdPerGroupAndVerifyPicksIt) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/checkpoint.pt";
  Tcn model(SmallOptions());
  torch::optim::AdamW optimizer(model->parameters(), torch::optim::AdamWOptions(1e-3));
  CheckpointMeta written = SomeMeta();
  // Not as many groups as channels (norm_mean is read after them).
  written.group_thresholds = {
      {"wlk", 0.8125}, {"moving", 0.5}, {"sit std", -0.25}, {"jog", 0.625}, {"ups", 0.0625}};
  ASSERT_TRUE(SaveCheckpoint(path, model, optimizer, written).ok());
  auto meta = ReadCheckpointMeta(path);
  ASSERT_TRUE(meta.ok()) << meta.status();
  EXPECT_EQ(meta->group_thresholds, written.group_thresholds);

  std::string source;
  EXPECT_DOUBLE_EQ(AcceptThreshold(*meta, "wlk", -2, &source), 0.8125);
  EXPECT_EQ(source, "group");
  EXPECT_DOUBLE_EQ(AcceptThreshold(*meta, "sit std", -2, &source), -0.25);
  // No threshold for the group, or no group: the pooled one.
  EXPECT_DOUBLE_EQ(AcceptThreshold(*meta, "dws", -2, &source), 0.75);
  EXPECT_EQ(source, "pooled");
  EXPECT_DOUBLE_EQ(AcceptThreshold(*meta, "", -2, &source), 0.75);
  EXPECT_EQ(source, "pooled");
  // A threshold given on the command line wins.
  EXPECT_DOUBLE_EQ(AcceptThreshold(*meta, "wlk", 0.3, &source), 0.3);
  EXPECT_EQ(source, "flag");
  EXPECT_DOUBLE_EQ(AcceptThreshold(*meta, "wlk", -1, nullptr), -1);
}

TEST(CheckpointTest, ANonFiniteModelNeverReplacesAGoodCheckpoint) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/checkpoint.pt";
  Tcn model(SmallOptions());
  torch::optim::AdamW optimizer(model->parameters(), torch::optim::AdamWOptions(1e-3));
  ASSERT_TRUE(SaveCheckpoint(path, model, optimizer, SomeMeta()).ok());
  {
    torch::NoGradGuard no_grad;
    model->parameters()[0].fill_(std::numeric_limits<float>::quiet_NaN());
  }
  absl::Status s = SaveCheckpoint(path, model, optimizer, SomeMeta());
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("non-finite"));
  Tcn reloaded(SmallOptions());
  ASSERT_TRUE(LoadCheckpoint(path, reloaded, nullptr).ok());
  EXPECT_TRUE(CheckFiniteParameters(reloaded, path).ok());
}

TEST(CheckpointTest, UnreadableFilesAreDataLossNamingThePath) {
  testing::TempDir dir;
  const std::string garbage = dir.WriteFile("garbage.pt", "not a checkpoint");
  auto meta = ReadCheckpointMeta(garbage);
  ASSERT_FALSE(meta.ok());
  EXPECT_EQ(meta.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(meta.status().message(), HasSubstr(garbage));
  Tcn model(SmallOptions());
  EXPECT_EQ(LoadCheckpoint(dir.path() + "/missing.pt", model, nullptr).code(),
            absl::StatusCode::kDataLoss);
}

TEST(CheckpointTest, UnwritableFolderIsAnError) {
  Tcn model(SmallOptions());
  torch::optim::AdamW optimizer(model->parameters(), torch::optim::AdamWOptions(1e-3));
  absl::Status s = SaveCheckpoint("/nonexistent-dir/x/checkpoint.pt", model, optimizer,
                                  SomeMeta());
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("/nonexistent-dir/x/checkpoint.pt"));
}

// A run with --ema keeps its weight average: a resumed run continues it,
// and embed/enroll/verify load it (it is what the evaluations scored).
TEST(CheckpointTest, KeepsTheWeightAverageForResumeAndInference) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/checkpoint.pt";
  torch::manual_seed(1);
  Tcn model(SmallOptions());
  torch::optim::AdamW optimizer(model->parameters(), torch::optim::AdamWOptions(1e-3));
  WeightAverage average(0.9);
  {
    torch::NoGradGuard no_grad;
    for (torch::Tensor& p : model->parameters()) p.fill_(1.0f);
    average.Update(model);
    for (torch::Tensor& p : model->parameters()) p.fill_(3.0f);
    average.Update(model);  // d = 2/11: average = 2/11 * 1 + 9/11 * 3 = 2.636...
  }
  ASSERT_TRUE(SaveCheckpoint(path, model, optimizer, SomeMeta(), &average).ok());

  torch::manual_seed(2);
  Tcn for_inference(SmallOptions());
  ASSERT_TRUE(LoadModelWeights(path, for_inference).ok());
  EXPECT_NEAR(for_inference->parameters()[0].flatten()[0].item<float>(), 29.0f / 11, 1e-5);

  torch::manual_seed(3);
  Tcn resumed(SmallOptions());
  torch::optim::AdamW resumed_optimizer(resumed->parameters(), torch::optim::AdamWOptions(1e-3));
  WeightAverage continued(0.9);
  ASSERT_TRUE(LoadCheckpoint(path, resumed, &resumed_optimizer, &continued).ok());
  EXPECT_FLOAT_EQ(resumed->parameters()[0].flatten()[0].item<float>(), 3.0f);  // Trained.
  EXPECT_EQ(continued.updates(), 2);
  continued.Swap(resumed);
  EXPECT_NEAR(resumed->parameters()[0].flatten()[0].item<float>(), 29.0f / 11, 1e-5);

  // Without an average, inference loads the weights as they are.
  const std::string plain = dir.path() + "/plain.pt";
  ASSERT_TRUE(SaveCheckpoint(plain, model, optimizer, SomeMeta()).ok());
  ASSERT_TRUE(LoadModelWeights(plain, for_inference).ok());
  EXPECT_FLOAT_EQ(for_inference->parameters()[0].flatten()[0].item<float>(), 3.0f);
}

}  // namespace
}  // namespace tripletstream
