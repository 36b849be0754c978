#ifndef TRIPLETSTREAM_PROBE_STREAM_PROBE_H_
#define TRIPLETSTREAM_PROBE_STREAM_PROBE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tripletstream/v1/tripletstream.pb.h"

namespace tripletstream {

struct ProbeConfig {
  std::vector<std::string> servers;  // host:port, or any gRPC target.
  // Batch indices [start, start + batches) of the epoch; 0 = to the end.
  int64_t batches = 0;
  int64_t start = 0;
  int64_t epoch = 0;
  uint64_t seed = 1;
  v1::SamplingMode mode = v1::SAMPLING_MODE_TRIPLET;
  int batch_size = 64;
  int p = 16;
  int k = 4;
  bool positive_other_session = false;
  double timeout_s = 600;  // Deadline of each stream.
  // Sleep after each received batch: simulates a slow trainer.
  double read_delay_ms = 0;
};

struct ProbeResult {
  int64_t batches = 0;
  int64_t triplets = 0;       // Anchors received.
  int64_t payload_bytes = 0;  // Tensor bytes received.
  double seconds = 0;         // From the first request to the last batch.
  uint64_t stream_digest = 0; // Batch digests chained in index order.
  std::vector<int64_t> batches_per_server;
  double triplets_per_s() const { return seconds > 0 ? triplets / seconds : 0; }
  double mb_per_s() const { return seconds > 0 ? payload_bytes / 1e6 / seconds : 0; }
};

// Fetches dataset info from `target`.
absl::StatusOr<v1::GetDatasetInfoResponse> FetchDatasetInfo(const std::string& target,
                                                             double timeout_s);

// Pulls the configured batches, sharded across the servers (server k serves
// indices i with i % n == k), verifies every digest and that every expected
// index arrived exactly once. DATA_LOSS on a digest mismatch, a missing or
// repeated index; the server's status if a stream fails.
absl::StatusOr<ProbeResult> RunProbe(const ProbeConfig& config);

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_PROBE_STREAM_PROBE_H_
