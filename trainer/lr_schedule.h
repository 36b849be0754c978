#ifndef TRIPLETSTREAM_TRAINER_LR_SCHEDULE_H_
#define TRIPLETSTREAM_TRAINER_LR_SCHEDULE_H_

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace tripletstream {

// Linear warm-up from 0 to `peak` over `warmup` steps, then cosine decay to
// `peak * final_fraction` at `total` steps (held there after).
inline double LearningRate(int64_t step, int64_t warmup, int64_t total, double peak,
                           double final_fraction = 0.05) {
  if (warmup > 0 && step < warmup) return peak * (step + 1) / static_cast<double>(warmup);
  if (total <= warmup) return peak;
  const double progress =
      std::min(1.0, (step - warmup) / static_cast<double>(total - warmup));
  const double floor = peak * final_fraction;
  return floor + (peak - floor) * 0.5 * (1 + std::cos(M_PI * progress));
}

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_TRAINER_LR_SCHEDULE_H_
