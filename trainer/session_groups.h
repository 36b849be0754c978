#ifndef TRIPLETSTREAM_TRAINER_SESSION_GROUPS_H_
#define TRIPLETSTREAM_TRAINER_SESSION_GROUPS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tripletstream {

// The evaluation groups of every session, from a --session_groups spec: one
// or more entries separated by ';', each either
//   REGEX       an RE2 with a capture group; a fully matching session joins
//               the group the first capture names (e.g. '([a-z]+)_.*' puts
//               MotionSense's "wlk_15" in "wlk"), or "other" when none match;
//   NAME=REGEX  a fully matching session joins the group NAME
//               (e.g. 'moving=(wlk|jog|ups|dws)_.*'), others join nothing.
// A session can be in several groups (one per entry). Result: per session
// (in `session_names` order) its group names, in entry order. Errors name the
// bad entry.
absl::StatusOr<std::vector<std::vector<std::string>>> SessionGroups(
    const std::string& spec, const std::vector<std::string>& session_names);

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_TRAINER_SESSION_GROUPS_H_
