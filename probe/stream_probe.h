#ifndef TRIPLETSTREAM_PROBE_STREAM_PROBE_H_
#define TRIPLETSTREAM_PROBE_STREAM_PROBE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/batch_stream.h"

namespace tripletstream {

struct ProbeConfig {
  // Server names, request, start position, epochs, end_index (the first
  // epoch's [start_index, end_index) window), client options: the stream
  // the probe reads, exactly as a trainer would.
  BatchStreamOptions stream;
  // Sleep after each received batch: simulates a slow trainer.
  double read_delay_ms = 0;
};

struct ProbeResult {
  int64_t batches = 0;
  int64_t triplets = 0;       // Anchors received.
  int64_t payload_bytes = 0;  // Tensor bytes received.
  double seconds = 0;         // From opening the stream to the last batch.
  // Batch digests chained in index order per epoch; with several epochs
  // the epochs' digests chained in turn.
  uint64_t stream_digest = 0;
  BatchStreamStats stats;     // Per server, reconnects, stalls.
  double triplets_per_s() const { return seconds > 0 ? triplets / seconds : 0; }
  double mb_per_s() const { return seconds > 0 ? payload_bytes / 1e6 / seconds : 0; }
};

// Reads the configured stream to its end through BatchStream (which checks
// each batch's index, shape and digest, so every index arrives exactly
// once, across failovers). OUT_OF_RANGE when an end_index window asks for
// batches past the end of the epoch; the stream's error otherwise.
absl::StatusOr<ProbeResult> RunProbe(const ProbeConfig& config);

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_PROBE_STREAM_PROBE_H_
