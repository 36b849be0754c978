#ifndef TRIPLETSTREAM_TRAINER_STALL_METER_H_
#define TRIPLETSTREAM_TRAINER_STALL_METER_H_

#include <chrono>

namespace tripletstream {

// Data-stall accounting as DS-Analyzer defines it: the share of step time a
// training step spends waiting for its input. A step = wait for the batch +
// compute. Kept per logging interval and for the run.
class StallMeter {
 public:
  void AddStep(double wait_s, double step_s) {
    interval_wait_ += wait_s;
    interval_step_ += step_s;
    total_wait_ += wait_s;
    total_step_ += step_s;
  }
  double interval_pct() const { return Pct(interval_wait_, interval_step_); }
  double total_pct() const { return Pct(total_wait_, total_step_); }
  double total_step_seconds() const { return total_step_; }
  void ResetInterval() { interval_wait_ = interval_step_ = 0; }

 private:
  static double Pct(double wait, double step) { return step > 0 ? 100 * wait / step : 0; }
  double interval_wait_ = 0, interval_step_ = 0, total_wait_ = 0, total_step_ = 0;
};

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_TRAINER_STALL_METER_H_
