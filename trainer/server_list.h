#ifndef TRIPLETSTREAM_TRAINER_SERVER_LIST_H_
#define TRIPLETSTREAM_TRAINER_SERVER_LIST_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tripletstream {

// Expands `dns:///HOST:PORT` entries into one "ADDRESS:PORT" entry per address
// HOST resolves to (a Kubernetes headless Service gives one per pod), sorted so
// every trainer shards the same way. gRPC's static lists ("ipv4:A:P,B:P",
// "ipv6:[A]:P,...", already split at the commas) lose their scheme; other
// entries are kept as they are. Duplicates are removed. NOT_FOUND names an entry that does not resolve;
// INVALID_ARGUMENT one without a port.
absl::StatusOr<std::vector<std::string>> ExpandServers(const std::vector<std::string>& servers);

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_TRAINER_SERVER_LIST_H_
