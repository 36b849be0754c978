#include "client/grpc_util.h"

#include <gtest/gtest.h>

namespace tripletstream {
namespace {

TEST(GrpcUtilTest, StatusesConvertBothWaysWithCodeAndMessage) {
  const absl::Status status = absl::FailedPreconditionError("wrong dataset");
  const grpc::Status wire = ToGrpcStatus(status);
  EXPECT_EQ(wire.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(wire.error_message(), "wrong dataset");
  const absl::Status back = FromGrpcStatus(wire, "host:1");
  EXPECT_EQ(back.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(back.message(), "host:1: wrong dataset");
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK, "host:1").ok());
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
}

TEST(GrpcUtilTest, OnlyFailuresAnotherServerMayNotSeeAreTransient) {
  for (auto code : {absl::StatusCode::kUnavailable, absl::StatusCode::kCancelled,
                    absl::StatusCode::kDeadlineExceeded, absl::StatusCode::kResourceExhausted,
                    absl::StatusCode::kAborted, absl::StatusCode::kInternal}) {
    EXPECT_TRUE(IsTransient(code)) << absl::StatusCodeToString(code);
  }
  for (auto code : {absl::StatusCode::kInvalidArgument, absl::StatusCode::kFailedPrecondition,
                    absl::StatusCode::kDataLoss, absl::StatusCode::kOutOfRange,
                    absl::StatusCode::kNotFound, absl::StatusCode::kPermissionDenied}) {
    EXPECT_FALSE(IsTransient(code)) << absl::StatusCodeToString(code);
  }
}

TEST(GrpcUtilTest, ChannelToAnUnreachableServerFailsFast) {
  auto channel = MakeChannel("127.0.0.1:1");
  ASSERT_NE(channel, nullptr);
  EXPECT_FALSE(channel->WaitForConnected(std::chrono::system_clock::now() +
                                         std::chrono::milliseconds(300)));
}

}  // namespace
}  // namespace tripletstream
