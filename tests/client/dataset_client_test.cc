#include "client/dataset_client.h"

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "tripletstream/v1/tripletstream.grpc.pb.h"

#include "tests/testing/fixtures.h"
#include "tests/testing/test_cluster.h"

namespace tripletstream {
namespace {

using ::testing::HasSubstr;

class DatasetClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cluster = testing::TestCluster::Start(2, testing::SmallPreparedDataset());
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *std::move(cluster);
  }
  std::unique_ptr<testing::TestCluster> cluster_;
};

TEST_F(DatasetClientTest, InfoComesFromTheFirstServerThatAnswers) {
  ClientOptions options;
  options.rpc_timeout_s = 2;
  auto info = FetchDatasetInfo({"127.0.0.1:1", cluster_->Address(1)}, options);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->channel_names_size(), 3);
}

TEST_F(DatasetClientTest, InfoFailsNamingEveryServerWhenNoneAnswers) {
  ClientOptions options;
  options.rpc_timeout_s = 0.5;
  cluster_->Freeze(0);
  auto info = FetchDatasetInfo({"127.0.0.1:1", cluster_->Address(0)}, options);
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(info.status().message(), HasSubstr("127.0.0.1:1"));
  EXPECT_THAT(info.status().message(), HasSubstr(cluster_->Address(0)));
}

TEST_F(DatasetClientTest, WindowsFailOverFromAFrozenServer) {
  auto reference = FetchWindows({cluster_->Address(1)}, v1::SPLIT_TEST, "");
  ASSERT_TRUE(reference.ok()) << reference.status();
  ASSERT_GT(reference->size(), 0);
  ClientOptions options;
  options.stall_timeout_s = 0.5;
  cluster_->Freeze(0);
  auto windows = FetchWindows(cluster_->Addresses(), v1::SPLIT_TEST, "", options);
  ASSERT_TRUE(windows.ok()) << windows.status();
  EXPECT_EQ(windows->values, reference->values);
  EXPECT_EQ(windows->users, reference->users);
  EXPECT_EQ(windows->sessions, reference->sessions);
  EXPECT_EQ(windows->length, 32);
  EXPECT_EQ(windows->channels, 3);
}

TEST_F(DatasetClientTest, AnotherDatasetIsRefusedAtOnce) {
  auto windows = FetchWindows(cluster_->Addresses(), v1::SPLIT_TEST, "0000000000000000");
  ASSERT_FALSE(windows.ok());
  EXPECT_EQ(windows.status().code(), absl::StatusCode::kFailedPrecondition)
      << windows.status();
}

// A server of another version: it names another payload digest (empty:
// before the digest was named).
class OtherDigestServer final : public v1::TripletStream::CallbackService {
 public:
  explicit OtherDigestServer(std::string digest) : digest_(std::move(digest)) {}
  grpc::ServerUnaryReactor* GetDatasetInfo(grpc::CallbackServerContext* context,
                                           const v1::GetDatasetInfoRequest*,
                                           v1::GetDatasetInfoResponse* response) override {
    response->add_channel_names("x");
    response->set_payload_digest(digest_);
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  std::string digest_;
};

TEST(DatasetClientDigestTest, AServerWithAnotherDigestIsRefusedNamingBoth) {
  for (const std::string digest : {"", "crc32c"}) {
    OtherDigestServer service(digest);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service);
    std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
    ASSERT_NE(port, 0);
    auto info = FetchDatasetInfo({"127.0.0.1:" + std::to_string(port)});
    ASSERT_FALSE(info.ok());
    EXPECT_EQ(info.status().code(), absl::StatusCode::kFailedPrecondition) << info.status();
    EXPECT_THAT(info.status().message(), HasSubstr("xxh3-64"));
    EXPECT_THAT(info.status().message(),
                HasSubstr(digest.empty() ? "pre-2026-11-30" : "\"crc32c\""));
    server->Shutdown();
  }
}

TEST_F(DatasetClientTest, InfoNamesThePayloadDigest) {
  auto info = FetchDatasetInfo({cluster_->Address(0)});
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->payload_digest(), "xxh3-64");
}

}  // namespace
}  // namespace tripletstream
