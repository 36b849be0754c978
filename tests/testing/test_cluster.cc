#include "tests/testing/test_cluster.h"

#include "absl/strings/str_cat.h"

namespace tripletstream::testing {

absl::StatusOr<std::unique_ptr<TestCluster>> TestCluster::Start(
    int servers, std::shared_ptr<const PreparedDataset> dataset) {
  if (dataset == nullptr) return absl::InvalidArgumentError("no dataset");
  auto cluster = std::make_unique<TestCluster>();
  for (int i = 0; i < servers; ++i) {
    DataServiceConfig config;
    config.producer_threads = i + 1;
    auto server = DataServer::Start(dataset, config, "127.0.0.1:0");
    if (!server.ok()) return server.status();
    auto proxy = TcpProxy::Start((*server)->port());
    if (!proxy.ok()) return proxy.status();
    cluster->servers_.push_back(*std::move(server));
    cluster->proxies_.push_back(*std::move(proxy));
  }
  return cluster;
}

std::string TestCluster::Address(int i) const {
  return absl::StrCat("127.0.0.1:", proxies_[i]->port());
}

std::vector<std::string> TestCluster::Addresses() const {
  std::vector<std::string> out;
  for (int i = 0; i < size(); ++i) out.push_back(Address(i));
  return out;
}

void TestCluster::Kill(int i) { servers_[i]->Shutdown(absl::ZeroDuration()); }

}  // namespace tripletstream::testing
