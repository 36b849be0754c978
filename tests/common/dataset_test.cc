#include "common/dataset.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace tripletstream {
namespace {

TEST(NaturalLessTest, ComparesDigitRunsByNumericValue) {
  EXPECT_TRUE(NaturalLess("2", "10"));
  EXPECT_FALSE(NaturalLess("10", "2"));
  EXPECT_TRUE(NaturalLess("9", "10"));
  EXPECT_TRUE(NaturalLess("99", "100"));
  EXPECT_TRUE(NaturalLess("123", "124"));
  EXPECT_FALSE(NaturalLess("124", "123"));
}

TEST(NaturalLessTest, ComparesDigitRunsInsideNames) {
  EXPECT_TRUE(NaturalLess("user2", "user10"));
  EXPECT_FALSE(NaturalLess("user10", "user2"));
  // The first differing run decides; later runs do not matter.
  EXPECT_TRUE(NaturalLess("s2_r10", "s10_r1"));
  EXPECT_TRUE(NaturalLess("s2_r9", "s2_r10"));
  EXPECT_FALSE(NaturalLess("s2_r10", "s2_r9"));
}

TEST(NaturalLessTest, ComparesDigitRunsLongerThanAnyIntegerType) {
  EXPECT_TRUE(NaturalLess("99999999999999999999", "100000000000000000000"));
  EXPECT_FALSE(NaturalLess("100000000000000000000", "99999999999999999999"));
  EXPECT_TRUE(NaturalLess("u18446744073709551616", "u18446744073709551617"));
}

TEST(NaturalLessTest, ComparesNonDigitsBytewise) {
  EXPECT_TRUE(NaturalLess("a", "b"));
  EXPECT_FALSE(NaturalLess("b", "a"));
  EXPECT_TRUE(NaturalLess("B", "a"));  // 'B' (0x42) < 'a' (0x61).
  EXPECT_FALSE(NaturalLess("a", "B"));
  // A digit against a non-digit compares as bytes: '-' (0x2d) < '1' (0x31)
  // < '_' (0x5f).
  EXPECT_TRUE(NaturalLess("a-", "a1"));
  EXPECT_TRUE(NaturalLess("a1", "a_"));
  EXPECT_FALSE(NaturalLess("a_", "a1"));
}

TEST(NaturalLessTest, ComparesBytesAboveAsciiAsUnsigned) {
  // "\xc3\xa9" is UTF-8 'é': its bytes are above every ASCII byte.
  EXPECT_TRUE(NaturalLess("z", "\xc3\xa9"));
  EXPECT_FALSE(NaturalLess("\xc3\xa9", "z"));
  EXPECT_TRUE(NaturalLess("9", "\xc3\xa9"));
}

TEST(NaturalLessTest, PrefixComesFirst) {
  EXPECT_TRUE(NaturalLess("", "a"));
  EXPECT_FALSE(NaturalLess("a", ""));
  EXPECT_TRUE(NaturalLess("user", "user1"));
  EXPECT_FALSE(NaturalLess("user1", "user"));
  EXPECT_TRUE(NaturalLess("user1", "user1a"));
}

TEST(NaturalLessTest, IsIrreflexive) {
  for (const std::string s : {"", "a", "7", "007", "user10", "s2_r10", "\xc3\xa9"}) {
    EXPECT_FALSE(NaturalLess(s, s)) << s;
  }
}

TEST(NaturalLessTest, EqualValuesWithFewerLeadingZerosComeFirst) {
  EXPECT_TRUE(NaturalLess("7", "007"));
  EXPECT_FALSE(NaturalLess("007", "7"));
  EXPECT_TRUE(NaturalLess("0", "00"));
  EXPECT_FALSE(NaturalLess("00", "0"));
  EXPECT_TRUE(NaturalLess("user7", "user07"));
  // Leading zeros do not change the value: 010 is ten, above 9.
  EXPECT_TRUE(NaturalLess("9", "010"));
  EXPECT_TRUE(NaturalLess("01", "2"));
  EXPECT_FALSE(NaturalLess("2", "01"));
}

// NaturalLess sorts the name lists, so it must be a strict total order on
// distinct strings: for every pair exactly one of a < b, b < a holds, and
// the order is transitive.
TEST(NaturalLessTest, IsAStrictTotalOrder) {
  const std::vector<std::string> names = {
      "",      "0",      "00",     "000",   "01",   "1",     "2",       "9",   "010",
      "10",    "a",      "a0",     "a00",   "a1",   "a01",   "a2",      "a10", "a-",
      "a_",    "a1b",    "a1a",    "a01a",  "a1b2", "a1b10", "ab",      "B",   "user",
      "user1", "user10", "user07", "user7", "z",    "z9",    "\xc3\xa9"};
  for (const std::string& a : names) {
    for (const std::string& b : names) {
      if (a == b) continue;
      EXPECT_NE(NaturalLess(a, b), NaturalLess(b, a)) << "'" << a << "' vs '" << b << "'";
      for (const std::string& c : names) {
        if (NaturalLess(a, b) && NaturalLess(b, c)) {
          EXPECT_TRUE(NaturalLess(a, c)) << "'" << a << "' < '" << b << "' < '" << c << "'";
        }
      }
    }
  }
}

TEST(NaturalLessTest, SortsNamesInNaturalOrder) {
  std::vector<std::string> names = {"user10", "user2", "user1",  "user007", "user7",
                                    "user",   "User3", "user2b", "user2a"};
  std::sort(names.begin(), names.end(), NaturalLess);
  EXPECT_EQ(names, (std::vector<std::string>{"User3", "user", "user1", "user2", "user2a", "user2b",
                                             "user7", "user007", "user10"}));
}

TEST(SeriesTest, RowsIsValuesPerChannelCount) {
  Series series;
  series.values = std::vector<float>(12, 0.5f);
  EXPECT_EQ(series.rows(3), 4);
  EXPECT_EQ(series.rows(4), 3);
  EXPECT_EQ(series.rows(1), 12);
}

TEST(SeriesTest, RowsIsZeroWithoutChannelsOrValues) {
  Series series;
  EXPECT_EQ(series.rows(3), 0);
  series.values = {1.0f, 2.0f};
  EXPECT_EQ(series.rows(0), 0);
}

TEST(DatasetTest, ChannelsCountsChannelNames) {
  Dataset dataset;
  EXPECT_EQ(dataset.channels(), 0);
  dataset.channel_names = {"acc_x", "acc_y", "acc_z"};
  EXPECT_EQ(dataset.channels(), 3);
}

}  // namespace
}  // namespace tripletstream
