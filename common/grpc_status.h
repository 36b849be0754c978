#ifndef TRIPLETSTREAM_COMMON_GRPC_STATUS_H_
#define TRIPLETSTREAM_COMMON_GRPC_STATUS_H_

// absl::Status <-> grpc::Status at the RPC edge, for the server and the
// clients alike: the same code and message both ways.

#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace tripletstream {

grpc::Status ToGrpcStatus(const absl::Status& status);

// The same code and message, prefixed with `where` ("host:port: ...").
absl::Status FromGrpcStatus(const grpc::Status& status, absl::string_view where = {});

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_COMMON_GRPC_STATUS_H_
