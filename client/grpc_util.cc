#include "client/grpc_util.h"

#include <glog/logging.h>

namespace tripletstream {

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target,
                                           const ChannelOptions& options) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, options.initial_reconnect_backoff_ms);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, options.max_reconnect_backoff_ms);
  if (options.keepalive_time_ms > 0) {
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, options.keepalive_time_ms);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, options.keepalive_timeout_ms);
    // Pings only while a call is open (no server objects to those), and
    // also while the server sends nothing: that is when they matter.
    args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
    args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  }
  auto credentials = MakeChannelCredentials(options.tls);
  if (!credentials.ok()) {
    LOG(ERROR) << "channel to " << target << ": " << credentials.status();
    // Verifying against an empty root set fails every handshake: calls say
    // UNAVAILABLE rather than silently going out in plaintext.
    grpc::SslCredentialsOptions nothing_trusted;
    nothing_trusted.pem_root_certs = "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n";
    return grpc::CreateCustomChannel(target, grpc::SslCredentials(nothing_trusted), args);
  }
  return grpc::CreateCustomChannel(target, *credentials, args);
}

bool IsTransient(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kResourceExhausted:
      return true;
    default:
      return false;
  }
}

}  // namespace tripletstream
