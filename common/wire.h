#ifndef TRIPLETSTREAM_COMMON_WIRE_H_
#define TRIPLETSTREAM_COMMON_WIRE_H_

// The parts of the wire contract that both ends compute: which batch
// indices a shard holds, and what makes a received message well formed.
// The server plans its streams with these functions and every client checks
// what it receives with them, so the two cannot drift apart.

#include <cstdint>

#include "absl/status/status.h"
#include "tripletstream/v1/tripletstream.pb.h"

namespace tripletstream {

// Smallest i >= start with i % modulus == residue (modulus >= 1,
// 0 <= residue < modulus, start >= 0).
int64_t FirstIndexAtOrAfter(int64_t start, int64_t modulus, int64_t residue);

// How many of first, first + step, ... lie below end (step >= 1).
int64_t CountBelow(int64_t first, int64_t end, int64_t step);

// Batches in an epoch in which every training window is an anchor once:
// ceil(windows / anchors_per_batch); the last batch may be smaller
// (triplet mode). 0 when anchors_per_batch <= 0.
inline int64_t BatchesPerEpoch(int64_t train_windows, int64_t anchors_per_batch) {
  if (anchors_per_batch <= 0) return 0;
  return (train_windows + anchors_per_batch - 1) / anchors_per_batch;
}

// The index shard that rank `rank` of `world_size` reads from server
// `server` of `servers`: indices i with i % (world_size * servers) ==
// rank + world_size * server. The shards of one rank cover i % world_size
// == rank exactly; the shards of all ranks cover every index once.
v1::IndexShard ShardFor(int rank, int world_size, int server, int servers);

// OK when `batch` is batch `index` of `epoch`, its shape matches its data
// size and label count for its mode, and (with verify_digest) its digest
// matches its payload. DATA_LOSS naming what is wrong otherwise.
absl::Status CheckBatch(const v1::Batch& batch, int64_t epoch, int64_t index,
                        bool verify_digest = true);

// The same for a window batch expected to start at `first_window`.
absl::Status CheckWindowBatch(const v1::WindowBatch& batch, int64_t first_window,
                              bool verify_digest = true);

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_COMMON_WIRE_H_
