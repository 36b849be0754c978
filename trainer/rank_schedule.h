#ifndef TRIPLETSTREAM_TRAINER_RANK_SCHEDULE_H_
#define TRIPLETSTREAM_TRAINER_RANK_SCHEDULE_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace tripletstream {

// Which batch each data-parallel rank trains on at each step. An epoch has
// N batches; W ranks take ceil(N / W) steps each, in lockstep: at step j of
// an epoch rank r trains on batch r + W·j, or on nothing when that is past
// N (it then joins the step's gradient average with weight 0). So every rank
// takes the same number of steps (none waits forever in a collective) and
// the ranks together train on each batch of the epoch exactly once: their
// union is the single trainer's epoch. W = 1 is the single trainer.
//
// A data position (epoch, next_index) at a step boundary means "every batch
// below next_index of that epoch is trained on"; next_index is W·j after j
// steps, and an epoch's end is written as (epoch + 1, 0).
class RankSchedule {
 public:
  RankSchedule(int64_t batches_per_epoch, int rank, int world_size)
      : batches_(batches_per_epoch), rank_(rank), world_(world_size) {}

  // INVALID_ARGUMENT unless 0 <= rank < world_size and world_size <= N.
  absl::Status Check() const {
    if (world_ < 1 || rank_ < 0 || rank_ >= world_) {
      return absl::InvalidArgumentError(
          absl::StrCat("rank ", rank_, " of world size ", world_, " is not a valid rank"));
    }
    if (batches_ < world_) {
      return absl::InvalidArgumentError(absl::StrCat(
          "an epoch has ", batches_, " batches, fewer than the world size ", world_,
          ": use fewer trainer ranks or smaller batches"));
    }
    return absl::OkStatus();
  }

  int64_t batches_per_epoch() const { return batches_; }
  int64_t steps_per_epoch() const { return (batches_ + world_ - 1) / world_; }
  // The batch index this rank trains on at step j of an epoch, or -1.
  int64_t BatchAt(int64_t step_in_epoch) const {
    const int64_t index = rank_ + world_ * step_in_epoch;
    return index < batches_ ? index : -1;
  }

  // The step within the epoch a saved next_index resumes at. A position
  // written by a run of another world size lies between steps of this one:
  // FAILED_PRECONDITION.
  absl::StatusOr<int64_t> StepOf(int64_t next_index) const {
    if (next_index >= batches_) return steps_per_epoch();  // The epoch is done.
    if (next_index < 0 || next_index % world_ != 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "data position ", next_index, " is not a step boundary of ", world_, " ranks"));
    }
    return next_index / world_;
  }

  // The position after `steps_in_epoch` steps of `epoch`.
  void PositionAfter(int64_t epoch, int64_t steps_in_epoch, int64_t* out_epoch,
                     int64_t* out_next_index) const {
    if (steps_in_epoch >= steps_per_epoch()) {
      *out_epoch = epoch + 1;
      *out_next_index = 0;
    } else {
      *out_epoch = epoch;
      *out_next_index = world_ * steps_in_epoch;
    }
  }

 private:
  int64_t batches_;
  int rank_;
  int world_;
};

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_TRAINER_RANK_SCHEDULE_H_
