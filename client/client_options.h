#ifndef TRIPLETSTREAM_CLIENT_CLIENT_OPTIONS_H_
#define TRIPLETSTREAM_CLIENT_CLIENT_OPTIONS_H_

#include "client/grpc_util.h"

namespace tripletstream {

// How a client talks to data servers and when it gives up on one.
struct ClientOptions {
  ChannelOptions channel;
  // Progress deadline: a stream whose next message takes longer than this
  // is failed over like a dead server. 0 = wait forever.
  double stall_timeout_s = 30;
  // Deadline of unary calls (dataset info).
  double rpc_timeout_s = 30;
  // A shard gives up (UNAVAILABLE) when no server has delivered it a batch
  // for this long, counting backoff between attempts.
  double give_up_after_s = 60;
  double initial_backoff_s = 0.05;
  double max_backoff_s = 2.0;
  // Recompute every payload digest (shape and index checks always run).
  bool verify_digests = true;
};

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_CLIENT_CLIENT_OPTIONS_H_
