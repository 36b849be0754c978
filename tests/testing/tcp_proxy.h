#ifndef TRIPLETSTREAM_TESTS_TESTING_TCP_PROXY_H_
#define TRIPLETSTREAM_TESTS_TESTING_TCP_PROXY_H_

#include <atomic>
#include <memory>
#include <thread>

#include "absl/status/statusor.h"

namespace tripletstream::testing {

// A TCP forwarder on 127.0.0.1:0 in front of 127.0.0.1:backend_port that can
// freeze: while frozen it neither accepts, reads nor writes, but keeps every
// socket open, as a SIGSTOPped server does (the kernel still completes
// handshakes and buffers bytes; nothing answers, not even HTTP/2 pings).
class TcpProxy {
 public:
  static absl::StatusOr<std::unique_ptr<TcpProxy>> Start(int backend_port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  int port() const { return port_; }
  void Freeze();
  void Thaw();

 private:
  TcpProxy(int listen_fd, int port, int backend_port, int wake_read, int wake_write);
  void Run();
  void Wake();

  const int listen_fd_, port_, backend_port_, wake_read_, wake_write_;
  std::atomic<bool> frozen_{false}, stopping_{false};
  std::thread thread_;
};

}  // namespace tripletstream::testing

#endif  // TRIPLETSTREAM_TESTS_TESTING_TCP_PROXY_H_
