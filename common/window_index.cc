#include "common/window_index.h"

namespace tripletstream {

WindowIndex WindowIndex::Build(const Dataset& dataset,
                               const std::vector<SplitId>& series_split,
                               int length, int stride) {
  WindowIndex index;
  index.length_ = length;
  index.stride_ = stride;
  const int channels = dataset.channels();
  // Series are sorted by (user, session), so appending in series order keeps
  // users and series contiguous.
  for (size_t s = 0; s < dataset.series.size(); ++s) {
    const Series& series = dataset.series[s];
    const int64_t rows = series.rows(channels);
    if (rows < length) continue;
    SplitWindows& out = index.splits_[static_cast<int>(series_split[s])];
    if (out.users.empty() || out.users.back() != series.user) {
      out.users.push_back(series.user);
      int64_t at = static_cast<int64_t>(out.windows.size());
      out.user_ranges.push_back({at, at});
    }
    int64_t begin = static_cast<int64_t>(out.windows.size());
    const int32_t user_slot = static_cast<int32_t>(out.users.size() - 1);
    const int32_t series_slot = static_cast<int32_t>(out.series.size());
    for (int64_t offset = 0; offset + length <= rows; offset += stride) {
      out.windows.push_back({static_cast<int32_t>(s), static_cast<int32_t>(offset)});
      out.window_user_slot.push_back(user_slot);
      out.window_series_slot.push_back(series_slot);
    }
    int64_t end = static_cast<int64_t>(out.windows.size());
    out.series.push_back(static_cast<int32_t>(s));
    out.series_ranges.push_back({begin, end});
    out.user_ranges.back().end = end;
  }
  return index;
}

int64_t WindowIndex::total_windows() const {
  int64_t total = 0;
  for (const SplitWindows& split : splits_) total += split.windows.size();
  return total;
}

}  // namespace tripletstream
