#include "common/digest.h"

#include <gtest/gtest.h>

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

TEST(DigestTest, CombineIsOrderDependent) {
  EXPECT_NE(CombineDigest(CombineDigest(0, 1), 2), CombineDigest(CombineDigest(0, 2), 1));
}

}  // namespace
}  // namespace tripletstream
