#include "trainer/stop_signal.h"

#include <gtest/gtest.h>

namespace tripletstream {
namespace {

TEST(StopSignalTest, RequestRunsRegisteredCancellersOnce) {
  StopSignal stop;
  int calls = 0;
  auto registration = stop.OnRequest([&] { ++calls; });
  EXPECT_FALSE(stop.requested());
  stop.Request();
  stop.Request();
  EXPECT_TRUE(stop.requested());
  EXPECT_EQ(calls, 1);
}

TEST(StopSignalTest, RegisteringAfterTheRequestCancelsAtOnce) {
  StopSignal stop;
  stop.Request();
  int calls = 0;
  auto registration = stop.OnRequest([&] { ++calls; });
  EXPECT_EQ(calls, 1);
}

TEST(StopSignalTest, DroppedRegistrationIsNeverCalled) {
  StopSignal stop;
  int calls = 0;
  stop.OnRequest([&] { ++calls; }).reset();
  stop.Request();
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace tripletstream
