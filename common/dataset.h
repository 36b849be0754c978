#ifndef TRIPLETSTREAM_COMMON_DATASET_H_
#define TRIPLETSTREAM_COMMON_DATASET_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tripletstream {

// One recording: the rows of one user in one session, row-major
// (rows x channels), in file order.
// The values are either owned (`values`, while loading and preparing) or,
// for a dataset memory-mapped from the cache (common/dataset_cache.h), a
// read-only view (`view`, kept alive by Dataset::storage). Readers use
// data() and floats().
struct Series {
  int32_t user = 0;     // Index into Dataset::user_names.
  int32_t session = 0;  // Index into Dataset::session_names.
  std::vector<float> values;
  const float* view = nullptr;
  int64_t view_floats = 0;

  const float* data() const { return view != nullptr ? view : values.data(); }
  int64_t floats() const {
    return view != nullptr ? view_floats : static_cast<int64_t>(values.size());
  }
  int64_t rows(int channels) const { return channels == 0 ? 0 : floats() / channels; }
};

// Parsed sensor data of every user. Users and sessions are named; ids are
// positions in the name lists, which are sorted in natural order ("2" < "10").
// Series are sorted by (user, session).
struct Dataset {
  std::vector<std::string> channel_names;
  std::vector<std::string> user_names;
  std::vector<std::string> session_names;
  std::vector<Series> series;
  // Keeps the memory of viewed series alive (a mapped cache file); null when
  // every series owns its values.
  std::shared_ptr<const void> storage;

  int channels() const { return static_cast<int>(channel_names.size()); }
};

// Natural order: digit runs compare by numeric value, the rest bytewise.
bool NaturalLess(const std::string& a, const std::string& b);

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_COMMON_DATASET_H_
