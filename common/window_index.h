#ifndef TRIPLETSTREAM_COMMON_WINDOW_INDEX_H_
#define TRIPLETSTREAM_COMMON_WINDOW_INDEX_H_

#include <array>
#include <cstdint>
#include <vector>

#include "common/dataset.h"
#include "common/split.h"

namespace tripletstream {

// A window: `length` rows of dataset.series[series] starting at `offset`.
struct WindowRef {
  int32_t series = 0;
  int32_t offset = 0;
};

// A half-open range of positions in a split's window list.
struct Range {
  int64_t begin = 0;
  int64_t end = 0;
  int64_t size() const { return end - begin; }
};

// The windows of one split, ordered by (user, session, offset), with the
// ranges samplers need: every user's windows and every series' windows
// are contiguous.
struct SplitWindows {
  std::vector<WindowRef> windows;
  std::vector<int32_t> users;         // Users with windows, ascending id.
  std::vector<Range> user_ranges;     // Parallel to `users`.
  std::vector<int32_t> window_user_slot;  // Per window: position in `users`.
  std::vector<int32_t> series;        // Series with windows, ascending.
  std::vector<Range> series_ranges;   // Parallel to `series`.
  std::vector<int32_t> window_series_slot;  // Per window: position in `series`.
  int64_t sessions() const { return static_cast<int64_t>(series.size()); }
};

// Fixed-length windows cut with a stride; a window never crosses a series
// (session) boundary. A series shorter than `length` has no window.
class WindowIndex {
 public:
  WindowIndex() = default;
  static WindowIndex Build(const Dataset& dataset,
                           const std::vector<SplitId>& series_split,
                           int length, int stride);

  const SplitWindows& split(SplitId id) const {
    return splits_[static_cast<int>(id)];
  }
  int length() const { return length_; }
  int stride() const { return stride_; }
  int64_t total_windows() const;

 private:
  std::array<SplitWindows, kNumSplits> splits_;
  int length_ = 0;
  int stride_ = 0;
};

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_COMMON_WINDOW_INDEX_H_
