#ifndef TRIPLETSTREAM_SERVER_INDEX_PLAN_H_
#define TRIPLETSTREAM_SERVER_INDEX_PLAN_H_

#include <cstdint>

#include "absl/status/statusor.h"

namespace tripletstream {

// The batch indices one stream serves: first, first + step, ... (count of
// them). Indices are those i in [start, batches_per_epoch) with
// i % shard_count == shard_index, truncated to max_batches when it is > 0.
struct IndexPlan {
  int64_t first = 0;
  int64_t step = 1;
  int64_t count = 0;

  int64_t IndexAt(int64_t seq) const { return first + seq * step; }
};

// INVALID_ARGUMENT for a negative start or max_batches, shard_count < 0,
// or shard_index outside [0, shard_count). shard_count 0 means 1.
absl::StatusOr<IndexPlan> PlanIndices(int64_t batches_per_epoch, int64_t start,
                                      int32_t shard_count, int32_t shard_index,
                                      int64_t max_batches);

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_SERVER_INDEX_PLAN_H_
