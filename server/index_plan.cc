#include "server/index_plan.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/wire.h"

namespace tripletstream {

absl::StatusOr<IndexPlan> PlanIndices(int64_t batches_per_epoch, int64_t start,
                                      int32_t shard_count, int32_t shard_index,
                                      int64_t max_batches) {
  if (start < 0) {
    return absl::InvalidArgumentError(absl::StrCat("start_index must be >= 0, got ", start));
  }
  if (max_batches < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_batches must be >= 0, got ", max_batches));
  }
  if (shard_count < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("shard.count must be >= 0, got ", shard_count));
  }
  const int64_t count = shard_count == 0 ? 1 : shard_count;
  if (shard_index < 0 || shard_index >= count) {
    return absl::InvalidArgumentError(absl::StrCat(
        "shard.index must be in [0, ", count, "), got ", shard_index));
  }
  IndexPlan plan;
  plan.step = count;
  if (start >= batches_per_epoch) {
    // Nothing left to serve. Rounding a start near INT64_MAX up to the shard's
    // residue would overflow (signed overflow: UB, found by fuzzing).
    plan.first = start;
    plan.count = 0;
    return plan;
  }
  plan.first = FirstIndexAtOrAfter(start, count, shard_index);
  plan.count = CountBelow(plan.first, batches_per_epoch, count);
  if (max_batches > 0) plan.count = std::min(plan.count, max_batches);
  return plan;
}

}  // namespace tripletstream
