#include "server/encoded_batch.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "server/wire_blocks.h"
#include "tests/testing/fixtures.h"

namespace tripletstream {
namespace {

SamplingConfig Triplets(int batch_size) {
  SamplingConfig sampling;
  sampling.mode = SamplingMode::kTriplet;
  sampling.batch_size = batch_size;
  return sampling;
}

struct Config {
  SamplingConfig sampling;
  AugmentConfig augment;
  int64_t epoch;
};

std::vector<Config> Configs() {
  std::vector<Config> configs;
  SamplingConfig triplets = Triplets(16);  // The last batch of an epoch is smaller.
  SamplingConfig pk;
  pk.mode = SamplingMode::kPk;
  pk.p = 3;
  pk.k = 4;
  AugmentConfig augmented;
  augmented.jitter_sigma = 0.03f;
  augmented.scale_sigma = 0.1f;
  augmented.max_shift = 8;
  augmented.rotate = true;
  augmented.time_warp = 0.2f;
  for (int64_t epoch : {int64_t{0}, int64_t{1}, int64_t{300}}) {
    configs.push_back({triplets, AugmentConfig(), epoch});
    configs.push_back({pk, augmented, epoch});
  }
  configs.push_back({triplets, augmented, 5});
  return configs;
}

// The encoder writes what protobuf's serializer writes for Build's message,
// byte for byte: field order, defaults left out (epoch 0, index 0), packed
// shape and labels, the digest.
TEST(EncodedBatchTest, BytesEqualTheSerializedProto) {
  auto dataset = testing::SmallPreparedDataset();
  ASSERT_NE(dataset, nullptr);
  WireBlocks blocks(size_t{64} << 20);
  int compared = 0;
  for (const Config& c : Configs()) {
    BatchBuilder builder(*dataset, c.sampling, c.augment, 11, c.epoch);
    ASSERT_GT(builder.batches_per_epoch(), 1);
    EncodedBatch encoded;
    for (int64_t i = 0; i < builder.batches_per_epoch(); ++i) {
      v1::Batch expected;
      builder.Build(i, &expected);
      EncodeBatch(builder, i, &encoded, &blocks);
      const std::string bytes = encoded.SerializeAsString();
      ASSERT_EQ(bytes, expected.SerializeAsString()) << "epoch " << c.epoch << " batch " << i;
      v1::Batch parsed;
      ASSERT_TRUE(parsed.ParseFromString(bytes));
      EXPECT_EQ(parsed.index(), i);
      EXPECT_EQ(encoded.index, i);
      EXPECT_EQ(encoded.payload_bytes, static_cast<int64_t>(expected.data().size()));
      EXPECT_EQ(encoded.anchors, c.sampling.mode == SamplingMode::kTriplet
                                     ? expected.labels_size() / 3
                                     : expected.labels_size());
      ++compared;
    }
  }
  EXPECT_GT(compared, 20);
}

TEST(EncodedBatchTest, WindowsStartAligned) {
  auto dataset = testing::SmallPreparedDataset();
  BatchBuilder builder(*dataset, Triplets(8), AugmentConfig(), 1, 7);
  WireBlocks blocks(size_t{64} << 20);
  EncodedBatch encoded;
  EncodeBatch(builder, 2, &encoded, &blocks);
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(encoded.buffer.Dump(&slices).ok());
  ASSERT_EQ(slices.size(), 1u);  // Sent as is.
  v1::Batch expected;
  builder.Build(2, &expected);
  const std::string bytes = expected.SerializeAsString();
  const size_t data_at = bytes.find(expected.data());
  ASSERT_NE(data_at, std::string::npos);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(slices[0].begin() + data_at) % 64, 0u);
}

TEST(WireBlocksTest, ABlockComesBackWhenGrpcDropsItsLastReference) {
  auto dataset = testing::SmallPreparedDataset();
  BatchBuilder builder(*dataset, Triplets(8), AugmentConfig(), 1, 0);
  WireBlocks blocks(size_t{64} << 20);
  {
    EncodedBatch encoded;
    EncodeBatch(builder, 0, &encoded, &blocks);
    EXPECT_EQ(blocks.blocks_out(), 1);
    grpc::ByteBuffer held_by_grpc(encoded.buffer);  // Another reference.
    encoded.buffer.Clear();
    EXPECT_EQ(blocks.blocks_out(), 1);
    held_by_grpc.Clear();
    EXPECT_EQ(blocks.blocks_out(), 0);
    EXPECT_GT(blocks.bytes_kept(), 0);
    // The next batch reuses the kept block.
    const int64_t kept = blocks.bytes_kept();
    EncodeBatch(builder, 1, &encoded, &blocks);
    EXPECT_EQ(blocks.bytes_kept(), 0);
    EXPECT_EQ(blocks.bytes_out(), kept);
    // Re-encoding into the same message releases the block it held.
    EncodeBatch(builder, 2, &encoded, &blocks);
    EXPECT_EQ(blocks.blocks_out(), 1);
  }
  EXPECT_EQ(blocks.blocks_out(), 0);
}

TEST(WireBlocksTest, KeepsAtMostTheRetainedBytesAndNeverHandsOutATooSmallBlock) {
  WireBlocks blocks(size_t{1} << 20);
  std::vector<WireBlocks::Block*> taken;
  for (int i = 0; i < 8; ++i) taken.push_back(blocks.Take(300 << 10));
  for (WireBlocks::Block* b : taken) {
    EXPECT_GE(b->capacity, size_t{300} << 10);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(b->data) % 64, 0u);
    WireBlocks::GiveBack(b);
  }
  EXPECT_LE(blocks.bytes_kept(), 1 << 20);
  EXPECT_GT(blocks.bytes_kept(), 0);
  EXPECT_EQ(blocks.blocks_out(), 0);
  WireBlocks::Block* big = blocks.Take(2 << 20);  // None kept is large enough.
  EXPECT_GE(big->capacity, size_t{2} << 20);
  WireBlocks::Block* small = blocks.Take(1000);  // Kept ones are too large.
  EXPECT_LT(small->capacity, size_t{300} << 10);
  blocks.Give(big);
  blocks.Give(small);
}

}  // namespace
}  // namespace tripletstream
