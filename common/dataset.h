#ifndef TRIPLETSTREAM_COMMON_DATASET_H_
#define TRIPLETSTREAM_COMMON_DATASET_H_

#include <cstdint>
#include <string>
#include <vector>

namespace tripletstream {

// One recording: the rows of one user in one session, row-major
// (rows x channels), in file order.
struct Series {
  int32_t user = 0;     // Index into Dataset::user_names.
  int32_t session = 0;  // Index into Dataset::session_names.
  std::vector<float> values;

  int64_t rows(int channels) const {
    return channels == 0 ? 0 : static_cast<int64_t>(values.size()) / channels;
  }
};

// Parsed sensor data of every user. Users and sessions are named; ids are
// positions in the name lists, which are sorted in natural order ("2" < "10").
// Series are sorted by (user, session).
struct Dataset {
  std::vector<std::string> channel_names;
  std::vector<std::string> user_names;
  std::vector<std::string> session_names;
  std::vector<Series> series;

  int channels() const { return static_cast<int>(channel_names.size()); }
};

// Natural order: digit runs compare by numeric value, the rest bytewise.
bool NaturalLess(const std::string& a, const std::string& b);

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_COMMON_DATASET_H_
