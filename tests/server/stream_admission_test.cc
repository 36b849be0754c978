#include "server/stream_admission.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tripletstream {
namespace {

TEST(StreamAdmissionTest, TicketsHoldTheirShareUntilDestroyed) {
  ServerStats stats;
  StreamAdmission admission({/*max_streams=*/2, /*max_inflight_bytes=*/100}, &stats);
  auto a = admission.Admit(60);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(admission.open_streams(), 1);
  EXPECT_EQ(admission.inflight_bytes(), 60);
  EXPECT_EQ(admission.Admit(41).status().code(), absl::StatusCode::kResourceExhausted);
  auto b = admission.Admit(40);
  ASSERT_TRUE(b.ok());
  EXPECT_THAT(admission.Admit(0).status().message(), ::testing::HasSubstr("--max_streams"));
  a->reset();
  EXPECT_EQ(admission.open_streams(), 1);
  EXPECT_EQ(stats.inflight_bytes_reserved.load(), 40);
  EXPECT_EQ(stats.streams_refused_streams.load(), 1);
  EXPECT_EQ(stats.streams_refused_memory.load(), 1);
}

TEST(StreamAdmissionTest, ZeroMeansNoLimit) {
  StreamAdmission admission({0, 0}, nullptr);
  std::vector<std::shared_ptr<StreamAdmission::Ticket>> tickets;
  for (int i = 0; i < 1000; ++i) {
    auto t = admission.Admit(int64_t{1} << 40);
    ASSERT_TRUE(t.ok());
    tickets.push_back(*t);
  }
  EXPECT_EQ(admission.open_streams(), 1000);
}

}  // namespace
}  // namespace tripletstream
