#ifndef TRIPLETSTREAM_TRAINER_LR_SCHEDULE_H_
#define TRIPLETSTREAM_TRAINER_LR_SCHEDULE_H_

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace tripletstream {

// Linear warm-up from 0 to `peak` over `warmup` steps, then cosine decay to
// `peak * final_fraction` at `total` steps (held there after).
// `time_progress` in [0, 1] is how much of a wall-clock budget the decay
// phase has used: the decay follows whichever of the two budgets runs out
// first, so a run cut by time still ends at the low rate.
inline double LearningRate(int64_t step, int64_t warmup, int64_t total, double peak,
                           double final_fraction = 0.05, double time_progress = 0) {
  if (warmup > 0 && step < warmup) return peak * (step + 1) / static_cast<double>(warmup);
  if (total <= warmup && time_progress <= 0) return peak;
  const double step_progress =
      total > warmup ? (step - warmup) / static_cast<double>(total - warmup) : 0.0;
  const double progress = std::min(1.0, std::max(step_progress, time_progress));
  const double floor = peak * final_fraction;
  return floor + (peak - floor) * 0.5 * (1 + std::cos(M_PI * progress));
}

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_TRAINER_LR_SCHEDULE_H_
