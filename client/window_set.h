#ifndef TRIPLETSTREAM_CLIENT_WINDOW_SET_H_
#define TRIPLETSTREAM_CLIENT_WINDOW_SET_H_

#include <cstdint>
#include <vector>

namespace tripletstream {

// Every window of one split, as StreamWindows sends them (normalized), in
// the server's order: by user, session, offset.
struct WindowSet {
  int64_t length = 0, channels = 0;
  std::vector<float> values;  // [N, length, channels] row-major.
  std::vector<int32_t> users, sessions;
  int64_t size() const { return static_cast<int64_t>(users.size()); }
};

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_CLIENT_WINDOW_SET_H_
