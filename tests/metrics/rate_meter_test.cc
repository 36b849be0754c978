#include "metrics/rate_meter.h"

#include <gtest/gtest.h>

namespace tripletstream {
namespace {

TEST(RateMeterTest, MeasuresBetweenUpdatesAtLeastTheIntervalApart) {
  RateMeter meter(std::chrono::milliseconds(1000));
  const auto t0 = RateMeter::Clock::now() + std::chrono::seconds(1);
  // The first update (about 1 s after construction) sets the baseline.
  EXPECT_GT(meter.RateAt(500, t0), 0);
  // 500 more over 2 s.
  EXPECT_DOUBLE_EQ(meter.RateAt(1000, t0 + std::chrono::seconds(2)), 250);
  // Too soon: the last rate again, no update.
  EXPECT_DOUBLE_EQ(meter.RateAt(5000, t0 + std::chrono::milliseconds(2500)), 250);
  // 1000 -> 3000 over 1 s since the last update.
  EXPECT_DOUBLE_EQ(meter.RateAt(3000, t0 + std::chrono::seconds(3)), 2000);
}

}  // namespace
}  // namespace tripletstream
