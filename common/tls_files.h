#ifndef TRIPLETSTREAM_COMMON_TLS_FILES_H_
#define TRIPLETSTREAM_COMMON_TLS_FILES_H_

// TLS for the gRPC edge, for servers and clients alike: which PEM files, and
// the credentials made from them. Plaintext when no file is given.

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace tripletstream {

struct TlsFiles {
  // Server: its certificate chain and key; client: its own for mutual TLS.
  std::string cert;
  std::string key;
  // Server: CA that client certificates must chain to (mutual TLS; empty =
  // no client certificates asked). Client: CA that the server's must chain
  // to (empty = plaintext, unless cert/key are given: then system roots).
  std::string ca;
  bool enabled() const { return !cert.empty() || !key.empty() || !ca.empty(); }
};

// INVALID_ARGUMENT naming the flag (`flag_prefix` + "cert"/"key"/"ca") of a
// file that is missing, unreadable or not PEM, or of a cert without a key.
absl::Status ValidateTlsFiles(const TlsFiles& files, const std::string& flag_prefix);

// Server credentials: insecure without files; else TLS that re-reads the
// files every `refresh_s` seconds (certificate rotation without a restart),
// requiring and verifying client certificates when `ca` is set.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsFiles& files, unsigned refresh_s = 5);

// Channel credentials: insecure without files; else TLS verifying the
// server against `ca`, presenting cert/key when given.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const TlsFiles& files);

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_COMMON_TLS_FILES_H_
