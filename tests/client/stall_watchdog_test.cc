// The progress deadline against a real server behind a freezable proxy.
#include "client/stall_watchdog.h"

#include <gtest/gtest.h>

#include "client/grpc_util.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/test_cluster.h"
#include "tripletstream/v1/tripletstream.grpc.pb.h"

namespace tripletstream {
namespace {

class StallWatchdogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cluster = testing::TestCluster::Start(1, testing::SmallPreparedDataset());
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *std::move(cluster);
  }

  // Reads a whole epoch under `slot`; returns how many batches came.
  int ReadEpoch(CallSlot* slot, bool* finished_ok) {
    auto stub = v1::TripletStream::NewStub(MakeChannel(cluster_->Address(0)));
    grpc::ClientContext context;
    v1::StreamTripletsRequest request;
    request.set_split(v1::SPLIT_TRAIN);
    request.set_mode(v1::SAMPLING_MODE_TRIPLET);
    request.set_batch_size(4);
    EXPECT_TRUE(slot->Attach(&context));
    // Opening the call blocks until it is sent: on a frozen server, forever.
    slot->BeginWait();
    auto reader = stub->StreamTriplets(&context, request);
    v1::Batch batch;
    int batches = 0;
    for (;;) {
      slot->BeginWait();
      const bool more = reader->Read(&batch);
      slot->EndWait();
      if (!more) break;
      ++batches;
    }
    *finished_ok = reader->Finish().ok();
    slot->Detach();
    return batches;
  }

  std::unique_ptr<testing::TestCluster> cluster_;
};

TEST_F(StallWatchdogTest, CancelsAReadFromAFrozenServer) {
  StallWatchdog watchdog(absl::Milliseconds(300));
  auto slot = watchdog.NewSlot();
  cluster_->Freeze(0);
  bool ok = true;
  EXPECT_EQ(ReadEpoch(slot.get(), &ok), 0);
  EXPECT_FALSE(ok);
  EXPECT_TRUE(slot->TakeStalled());
  EXPECT_FALSE(slot->TakeStalled());  // Reported once.
}

TEST_F(StallWatchdogTest, LeavesAStreamThatKeepsDeliveringAlone) {
  StallWatchdog watchdog(absl::Seconds(20));
  auto slot = watchdog.NewSlot();
  bool ok = false;
  EXPECT_EQ(ReadEpoch(slot.get(), &ok), (170 + 3) / 4);
  EXPECT_TRUE(ok);
  EXPECT_FALSE(slot->TakeStalled());
}

TEST_F(StallWatchdogTest, CancelledSlotCancelsItsCallsWithoutADeadline) {
  StallWatchdog watchdog(absl::ZeroDuration());  // No deadline: only Cancel.
  auto slot = watchdog.NewSlot();
  cluster_->Freeze(0);
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    slot->Cancel();
  });
  bool ok = true;
  EXPECT_EQ(ReadEpoch(slot.get(), &ok), 0);
  canceller.join();
  EXPECT_FALSE(ok);
  EXPECT_FALSE(slot->TakeStalled());
  grpc::ClientContext later;
  EXPECT_FALSE(slot->Attach(&later));  // Every later call is cancelled too.
  slot->Detach();
}

}  // namespace
}  // namespace tripletstream
