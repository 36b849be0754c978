#ifndef TRIPLETSTREAM_CLIENT_SERVER_LIST_H_
#define TRIPLETSTREAM_CLIENT_SERVER_LIST_H_

#include <functional>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"

namespace tripletstream {

// Expands `dns:///HOST:PORT` entries into one "ADDRESS:PORT" entry per address
// HOST resolves to (a Kubernetes headless Service gives one per pod), sorted so
// every trainer shards the same way. gRPC's static lists ("ipv4:A:P,B:P",
// "ipv6:[A]:P,...", already split at the commas) lose their scheme; other
// entries are kept as they are. `file:PATH` entries are replaced by the
// HOST:PORT lines of that file ('#' comments allowed), read at every
// resolution: a controller that starts servers on plain hosts appends them
// there. Duplicates are removed. NOT_FOUND names an entry that does not
// resolve or a file that cannot be read; INVALID_ARGUMENT one without a port
// (with the file and line).
absl::StatusOr<std::vector<std::string>> ExpandServers(const std::vector<std::string>& servers);

// Turns the names a user gave into server addresses (ExpandServers, or a
// test's injected answer). Called at start and at every epoch boundary.
using ServerResolver =
    std::function<absl::StatusOr<std::vector<std::string>>(const std::vector<std::string>&)>;

// A --servers flag value split at commas, empty items dropped.
std::vector<std::string> SplitServerList(absl::string_view flag_value);

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_CLIENT_SERVER_LIST_H_
