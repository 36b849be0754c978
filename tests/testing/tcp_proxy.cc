#include "tests/testing/tcp_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace tripletstream::testing {
namespace {

void SetNonBlocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

int ConnectTo(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  SetNonBlocking(fd);
  return fd;
}

// One direction of a connection: bytes read from `from` wait in `pending`
// until `to` takes them, and nothing more is read meanwhile.
struct Pipe {
  int from = -1, to = -1;
  std::string pending;
  bool closed = false;
};

// Moves what it can; false when the connection is over.
bool Pump(Pipe& p, short from_events, short to_events) {
  if (!p.pending.empty() && (to_events & (POLLOUT | POLLERR | POLLHUP))) {
    const ssize_t n = send(p.to, p.pending.data(), p.pending.size(), MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN) return false;
    if (n > 0) p.pending.erase(0, static_cast<size_t>(n));
  }
  if (p.pending.empty() && (from_events & (POLLIN | POLLERR | POLLHUP))) {
    char buffer[65536];
    const ssize_t n = recv(p.from, buffer, sizeof(buffer), 0);
    if (n == 0 || (n < 0 && errno != EAGAIN)) return false;
    if (n > 0) p.pending.assign(buffer, static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TcpProxy>> TcpProxy::Start(int backend_port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(fd, 64) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return absl::InternalError(absl::StrCat("proxy listen: ", std::strerror(errno)));
  }
  SetNonBlocking(fd);
  int wake[2];
  if (pipe(wake) != 0) return absl::InternalError("pipe");
  SetNonBlocking(wake[0]);
  return std::unique_ptr<TcpProxy>(
      new TcpProxy(fd, ntohs(addr.sin_port), backend_port, wake[0], wake[1]));
}

TcpProxy::TcpProxy(int listen_fd, int port, int backend_port, int wake_read, int wake_write)
    : listen_fd_(listen_fd),
      port_(port),
      backend_port_(backend_port),
      wake_read_(wake_read),
      wake_write_(wake_write) {
  thread_ = std::thread([this] { Run(); });
}

TcpProxy::~TcpProxy() {
  stopping_ = true;
  Wake();
  thread_.join();
  close(listen_fd_);
  close(wake_read_);
  close(wake_write_);
}

void TcpProxy::Wake() {
  const char byte = 0;
  (void)!write(wake_write_, &byte, 1);
}

void TcpProxy::Freeze() {
  frozen_ = true;
  Wake();
}

void TcpProxy::Thaw() {
  frozen_ = false;
  Wake();
}

void TcpProxy::Run() {
  std::vector<std::pair<Pipe, Pipe>> connections;  // (client->backend, backend->client)
  while (!stopping_) {
    const bool frozen = frozen_;
    std::vector<pollfd> fds = {{wake_read_, POLLIN, 0}};
    if (!frozen) {
      fds.push_back({listen_fd_, POLLIN, 0});
      for (auto& [up, down] : connections) {
        // Client socket: read when up is empty, write when down has bytes.
        fds.push_back({up.from, static_cast<short>((up.pending.empty() ? POLLIN : 0) |
                                                   (down.pending.empty() ? 0 : POLLOUT)),
                       0});
        fds.push_back({down.from, static_cast<short>((down.pending.empty() ? POLLIN : 0) |
                                                     (up.pending.empty() ? 0 : POLLOUT)),
                       0});
      }
    }
    poll(fds.data(), fds.size(), -1);
    if (fds[0].revents & POLLIN) {
      char drain[64];
      while (read(wake_read_, drain, sizeof(drain)) > 0) {
      }
    }
    if (frozen || frozen_) continue;
    if (fds[1].revents & POLLIN) {
      int client = accept(listen_fd_, nullptr, nullptr);
      if (client >= 0) {
        int backend = ConnectTo(backend_port_);
        if (backend < 0) {
          close(client);
        } else {
          SetNonBlocking(client);
          connections.push_back({Pipe{client, backend, "", false},
                                 Pipe{backend, client, "", false}});
        }
      }
    }
    for (size_t i = 0; i < connections.size() && 2 + 2 * i + 1 < fds.size(); ++i) {
      auto& [up, down] = connections[i];
      const short client_events = fds[2 + 2 * i].revents;
      const short backend_events = fds[2 + 2 * i + 1].revents;
      const bool alive =
          Pump(up, client_events, backend_events) && Pump(down, backend_events, client_events);
      if (!alive) up.closed = true;
    }
    for (size_t i = 0; i < connections.size();) {
      if (connections[i].first.closed) {
        close(connections[i].first.from);
        close(connections[i].first.to);
        connections.erase(connections.begin() + static_cast<long>(i));
      } else {
        ++i;
      }
    }
  }
  for (auto& [up, down] : connections) {
    close(up.from);
    close(up.to);
  }
}

}  // namespace tripletstream::testing
