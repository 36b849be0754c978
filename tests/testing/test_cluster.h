#ifndef TRIPLETSTREAM_TESTS_TESTING_TEST_CLUSTER_H_
#define TRIPLETSTREAM_TESTS_TESTING_TEST_CLUSTER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/prepared_dataset.h"
#include "server/data_server.h"
#include "tests/testing/tcp_proxy.h"

namespace tripletstream::testing {

// N in-process data servers serving one dataset, each reached through its
// own TcpProxy, so a test can kill a server or freeze it (alive, sockets
// open, silent) and thaw it again.
class TestCluster {
 public:
  // Server i runs with producer_threads = i + 1 (batches must not depend on it).
  static absl::StatusOr<std::unique_ptr<TestCluster>> Start(
      int servers, std::shared_ptr<const PreparedDataset> dataset);

  int size() const { return static_cast<int>(servers_.size()); }
  // "127.0.0.1:PORT" of server i's proxy.
  std::string Address(int i) const;
  std::vector<std::string> Addresses() const;
  DataServer& server(int i) { return *servers_[i]; }

  // Shuts server i down at once: open streams fail, new calls are refused.
  void Kill(int i);
  void Freeze(int i) { proxies_[i]->Freeze(); }
  void Thaw(int i) { proxies_[i]->Thaw(); }

 private:
  std::vector<std::unique_ptr<DataServer>> servers_;
  std::vector<std::unique_ptr<TcpProxy>> proxies_;  // Destroyed first.
};

}  // namespace tripletstream::testing

#endif  // TRIPLETSTREAM_TESTS_TESTING_TEST_CLUSTER_H_
