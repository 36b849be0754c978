#ifndef TRIPLETSTREAM_CLIENT_GRPC_UTIL_H_
#define TRIPLETSTREAM_CLIENT_GRPC_UTIL_H_

// Channels, status conversion and retry classification shared by every
// tripletstream client, so that no reader configures gRPC its own way.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include "common/grpc_status.h"  // FromGrpcStatus, ToGrpcStatus.
#include "common/tls_files.h"

#include "absl/status/status.h"

namespace tripletstream {

struct ChannelOptions {
  // HTTP/2 keepalive pings while a call is open: a peer that does not answer
  // one within keepalive_timeout_ms has its transport closed, failing the
  // calls on it. tripletstream-server accepts pings every 5 s or slower.
  int keepalive_time_ms = 10000;
  int keepalive_timeout_ms = 10000;
  // How fast a lost connection is retried (gRPC's exponential backoff).
  int initial_reconnect_backoff_ms = 100;
  int max_reconnect_backoff_ms = 2000;
  // Largest message accepted; -1 = no limit (batches can be large).
  int max_receive_message_bytes = -1;
  // TLS to the servers (ca: the CA their certificates chain to; cert/key:
  // this client's, for mutual TLS). Plaintext when empty.
  TlsFiles tls;
};

// A channel to `target` with `options`. TLS files are read here; validate
// them at startup (ValidateTlsFiles): one that cannot be read now gives a
// channel whose calls fail with UNAVAILABLE naming the reason in the log.
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target,
                                           const ChannelOptions& options = {});

// Codes another attempt, or another server, may not see: the server went
// away, was cancelled or overloaded, or the transport broke. Permanent ones
// (INVALID_ARGUMENT, FAILED_PRECONDITION, DATA_LOSS, ...) are the caller's
// or the data's and would repeat anywhere.
bool IsTransient(absl::StatusCode code);

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_CLIENT_GRPC_UTIL_H_
