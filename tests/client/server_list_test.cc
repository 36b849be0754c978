#include "client/server_list.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/temp_dir.h"

namespace tripletstream {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

TEST(ServerListTest, KeepsPlainEntriesInOrderWithoutDuplicates) {
  auto out = ExpandServers({"b:1", "a:2", "b:1"});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, (std::vector<std::string>{"b:1", "a:2"}));
}

TEST(ServerListTest, ExpandsDnsNamesToEveryAddress) {
  auto out = ExpandServers({"dns:///localhost:7000", "dns:///127.0.0.1:7001"});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(*out, Contains("127.0.0.1:7000"));
  EXPECT_THAT(*out, Contains("127.0.0.1:7001"));
}

TEST(ServerListTest, StaticAddressListsBecomeOneServerPerAddress) {
  // --servers=ipv4:127.0.0.1:7000,127.0.0.2:7001 split at the commas.
  auto out = ExpandServers({"ipv4:127.0.0.1:7000", "127.0.0.2:7001", "ipv6:[::1]:7002"});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, (std::vector<std::string>{"127.0.0.1:7000", "127.0.0.2:7001", "[::1]:7002"}));
}

TEST(ServerListTest, FileEntriesListTheServersOfTheFileAsItIsNow) {
  testing::TempDir dir;
  const std::string path =
      dir.WriteFile("servers", "# the data servers\n10.0.0.1:50051\n\n10.0.0.2:50051  # b\n");
  auto first = ExpandServers({"file:" + path, "10.0.0.9:1"});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, (std::vector<std::string>{"10.0.0.1:50051", "10.0.0.2:50051", "10.0.0.9:1"}));
  dir.WriteFile("servers", "10.0.0.2:50051\n10.0.0.3:50051\n");  // A controller rewrote it.
  auto second = ExpandServers({"file:" + path});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, (std::vector<std::string>{"10.0.0.2:50051", "10.0.0.3:50051"}));
  dir.WriteFile("servers", "10.0.0.2:50051\nnot a server\n");
  auto bad = ExpandServers({"file:" + path});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(path + ":2"), std::string::npos) << bad.status();
  EXPECT_EQ(ExpandServers({"file:" + path + ".missing"}).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(ServerListTest, ErrorsNameTheEntry) {
  auto no_port = ExpandServers({"dns:///localhost"});
  ASSERT_FALSE(no_port.ok());
  EXPECT_THAT(no_port.status().message(), HasSubstr("no port"));
  auto bare = ExpandServers({"ipv4:"});
  ASSERT_FALSE(bare.ok());
  EXPECT_THAT(bare.status().message(), HasSubstr("'ipv4:' has no port"));
  auto unknown = ExpandServers({"dns:///no-such-host.invalid:1"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.status().message(), HasSubstr("no-such-host.invalid"));
}

}  // namespace
}  // namespace tripletstream
