#ifndef TRIPLETSTREAM_CLIENT_DATASET_CLIENT_H_
#define TRIPLETSTREAM_CLIENT_DATASET_CLIENT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/client_options.h"
#include "client/window_set.h"
#include "tripletstream/v1/tripletstream.pb.h"

namespace tripletstream {

// The dataset description from the first of `servers` (addresses) that
// answers within options.rpc_timeout_s. A permanent error is returned at
// once; UNAVAILABLE listing every server's error when none answers.
absl::StatusOr<v1::GetDatasetInfoResponse> FetchDatasetInfo(
    const std::vector<std::string>& servers, const ClientOptions& options = {});

// Every window of `split` (StreamWindows), from the first server that
// delivers the whole split; a server that fails or stalls for
// options.stall_timeout_s is replaced by the next. Digests, shapes and
// window order are checked; FAILED_PRECONDITION when a server's dataset is
// not `fingerprint` (empty = any).
absl::StatusOr<WindowSet> FetchWindows(const std::vector<std::string>& servers,
                                       v1::Split split, const std::string& fingerprint,
                                       const ClientOptions& options = {});

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_CLIENT_DATASET_CLIENT_H_
