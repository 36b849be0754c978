#include "common/digest.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

namespace tripletstream {
namespace {

TEST(DigestTest, SeedMattersForEveryLength) {
  for (size_t n : {0u, 1u, 7u, 8u, 31u, 32u, 33u, 100u, 1000u}) {
    std::string data(n, 'x');
    EXPECT_NE(Digest64(data.data(), n, 1), Digest64(data.data(), n, 2)) << n;
  }
}

TEST(DigestTest, EveryByteAndTheLengthMatter) {
  std::vector<unsigned char> data(100, 7);
  std::set<uint64_t> seen;
  seen.insert(Digest64(data.data(), data.size()));
  for (size_t i = 0; i < data.size(); ++i) {
    data[i] ^= 1;
    EXPECT_TRUE(seen.insert(Digest64(data.data(), data.size())).second) << i;
    data[i] ^= 1;
  }
  EXPECT_NE(Digest64(data.data(), 99), Digest64(data.data(), 100));
}

TEST(DigestTest, IsStableAcrossVersions) {
  // The digest is part of the wire contract: a change here breaks clients.
  const std::string text = "tripletstream";
  EXPECT_EQ(Digest64(text.data(), text.size()), Digest64(text.data(), text.size()));
  const uint64_t golden = Digest64(text.data(), text.size(), 0);
  EXPECT_EQ(golden, 0xadbe66008704fa71ULL);
}

TEST(DigestTest, PayloadDigestCoversLabels) {
  std::vector<float> data(10, 1.0f);
  std::vector<int32_t> a = {1, 2, 3}, b = {1, 2, 4};
  EXPECT_NE(PayloadDigest(data.data(), 40, a.data(), 3),
            PayloadDigest(data.data(), 40, b.data(), 3));
}

TEST(DigestTest, PayloadDigestIsXxh3AndStable) {
  // The payload digest is part of the wire contract (GetDatasetInfo names it
  // "xxh3-64"): XXH3-64 of the payload, then of the labels seeded with it.
  // (XXH3-64 of "tripletstream" is 5a4689df792bc06f, as `xxhsum -H3` says.)
  const std::string text = "tripletstream";
  const int32_t labels[2] = {7, -1};
  EXPECT_EQ(PayloadDigest(text.data(), text.size(), nullptr, 0), 0xf96a9c9bc880d687ULL);
  EXPECT_EQ(PayloadDigest(text.data(), text.size(), labels, 2), 0x04a927331ecf3811ULL);
  EXPECT_STREQ(kPayloadDigestName, "xxh3-64");
}

TEST(DigestTest, HasherInPiecesEqualsPayloadDigest) {
  std::vector<unsigned char> data(20000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<unsigned char>(i * 131 + 7);
  const std::vector<int32_t> labels = {3, 1, 4, 1, 5};
  const uint64_t whole = PayloadDigest(data.data(), data.size(), labels.data(), labels.size());
  PayloadHasher hasher;
  for (size_t piece : {size_t{1}, size_t{7}, size_t{240}, size_t{256}, size_t{6144}, data.size()}) {
    hasher.Reset();
    for (size_t at = 0; at < data.size(); at += piece) {
      hasher.Update(data.data() + at, std::min(piece, data.size() - at));
    }
    EXPECT_EQ(hasher.Finish(labels.data(), labels.size()), whole) << piece;
  }
  // An empty payload, and reuse after Finish.
  hasher.Reset();
  EXPECT_EQ(hasher.Finish(labels.data(), labels.size()),
            PayloadDigest(nullptr, 0, labels.data(), labels.size()));
}

TEST(DigestTest, CombineIsOrderDependent) {
  EXPECT_NE(CombineDigest(CombineDigest(0, 1), 2), CombineDigest(CombineDigest(0, 2), 1));
}

}  // namespace
}  // namespace tripletstream
