#include "common/wire.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "common/digest.h"

namespace tripletstream {
namespace {

using ::testing::HasSubstr;

TEST(WireTest, FirstIndexAtOrAfterFindsTheResidue) {
  EXPECT_EQ(FirstIndexAtOrAfter(0, 3, 0), 0);
  EXPECT_EQ(FirstIndexAtOrAfter(0, 3, 2), 2);
  EXPECT_EQ(FirstIndexAtOrAfter(7, 3, 0), 9);
  EXPECT_EQ(FirstIndexAtOrAfter(7, 3, 1), 7);
  EXPECT_EQ(FirstIndexAtOrAfter(7, 1, 0), 7);
  EXPECT_EQ(CountBelow(9, 10, 3), 1);
  EXPECT_EQ(CountBelow(10, 10, 3), 0);
  EXPECT_EQ(CountBelow(0, 10, 3), 4);
}

TEST(WireTest, RankAndServerShardsPartitionTheIndexSpace) {
  // 3 ranks x 2 servers: every index in exactly one (rank, server) shard,
  // and a rank's shards hold exactly its residue class.
  constexpr int kRanks = 3, kServers = 2, kIndices = 100;
  std::set<int> seen;
  for (int r = 0; r < kRanks; ++r) {
    for (int k = 0; k < kServers; ++k) {
      const v1::IndexShard shard = ShardFor(r, kRanks, k, kServers);
      EXPECT_EQ(shard.count(), kRanks * kServers);
      for (int i = 0; i < kIndices; ++i) {
        if (i % shard.count() != shard.index()) continue;
        EXPECT_EQ(i % kRanks, r);
        EXPECT_TRUE(seen.insert(i).second) << i;
      }
    }
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kIndices));
}

v1::Batch TripletBatch(int b, int t, int c) {
  v1::Batch batch;
  batch.set_epoch(1);
  batch.set_index(5);
  batch.set_mode(v1::SAMPLING_MODE_TRIPLET);
  for (int64_t d : {3, b, t, c}) batch.add_shape(d);
  batch.mutable_data()->assign(static_cast<size_t>(3 * b * t * c) * 4, '\1');
  for (int i = 0; i < 3 * b; ++i) batch.add_labels(i);
  batch.set_digest(PayloadDigest(batch.data().data(), batch.data().size(),
                                 batch.labels().data(), batch.labels_size()));
  return batch;
}

TEST(WireTest, WellFormedBatchPasses) {
  EXPECT_TRUE(CheckBatch(TripletBatch(2, 4, 3), 1, 5).ok());
}

TEST(WireTest, WrongIndexEpochShapeOrDigestIsDataLoss) {
  v1::Batch batch = TripletBatch(2, 4, 3);
  EXPECT_THAT(CheckBatch(batch, 1, 6).message(), HasSubstr("expected batch 6"));
  EXPECT_EQ(CheckBatch(batch, 2, 5).code(), absl::StatusCode::kDataLoss);
  v1::Batch short_data = batch;
  short_data.mutable_data()->resize(8);
  EXPECT_THAT(CheckBatch(short_data, 1, 5).message(), HasSubstr("malformed"));
  v1::Batch few_labels = batch;
  few_labels.mutable_labels()->RemoveLast();
  EXPECT_EQ(CheckBatch(few_labels, 1, 5).code(), absl::StatusCode::kDataLoss);
  v1::Batch huge = batch;
  huge.set_shape(1, int64_t{1} << 40);  // Overflowing products are caught.
  EXPECT_EQ(CheckBatch(huge, 1, 5).code(), absl::StatusCode::kDataLoss);
  v1::Batch wild = batch;  // 3 x 2^62 overflowed counting windows (fuzzing).
  wild.set_shape(1, int64_t{1} << 62);
  EXPECT_EQ(CheckBatch(wild, 1, 5).code(), absl::StatusCode::kDataLoss);
  v1::Batch flipped = batch;
  (*flipped.mutable_data())[3] ^= 1;
  EXPECT_THAT(CheckBatch(flipped, 1, 5).message(), HasSubstr("wrong digest"));
  EXPECT_TRUE(CheckBatch(flipped, 1, 5, /*verify_digest=*/false).ok());
}

TEST(WireTest, WindowBatchChecks) {
  v1::WindowBatch batch;
  batch.set_first_window(4);
  for (int64_t d : {2, 3, 1}) batch.add_shape(d);
  batch.mutable_data()->assign(24, '\0');
  for (int i = 0; i < 2; ++i) {
    batch.add_user_labels(i);
    batch.add_session_labels(i);
  }
  batch.set_digest(PayloadDigest(batch.data().data(), batch.data().size(),
                                 batch.user_labels().data(), batch.user_labels_size()));
  EXPECT_TRUE(CheckWindowBatch(batch, 4).ok());
  EXPECT_THAT(CheckWindowBatch(batch, 0).message(), HasSubstr("expected windows from 0"));
  batch.add_session_labels(9);
  EXPECT_THAT(CheckWindowBatch(batch, 4).message(), HasSubstr("malformed"));
}

}  // namespace
}  // namespace tripletstream
