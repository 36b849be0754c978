#include "trainer/session_groups.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "re2/re2.h"

namespace tripletstream {

absl::StatusOr<std::vector<std::vector<std::string>>> SessionGroups(
    const std::string& spec, const std::vector<std::string>& session_names) {
  std::vector<std::vector<std::string>> groups(session_names.size());
  // NAME=REGEX when the text before the first '=' is a plain name.
  static const RE2 kNamed("([A-Za-z0-9_.-]+)=(.+)");
  for (const std::string& entry :
       std::vector<std::string>(absl::StrSplit(spec, ';', absl::SkipEmpty()))) {
    std::string name, pattern;
    const bool named = RE2::FullMatch(entry, kNamed, &name, &pattern);
    if (!named) pattern = entry;
    RE2 re(pattern, RE2::Quiet);
    if (!re.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--session_groups entry '", entry,
                                                     "' is not a valid RE2: ", re.error()));
    }
    if (!named && re.NumberOfCapturingGroups() < 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--session_groups entry '", entry,
          "' needs a capture group naming the group, or the form NAME=REGEX"));
    }
    for (size_t s = 0; s < session_names.size(); ++s) {
      if (named) {
        if (RE2::FullMatch(session_names[s], re)) groups[s].push_back(name);
      } else {
        std::string captured;
        groups[s].push_back(RE2::FullMatch(session_names[s], re, &captured) ? captured
                                                                           : "other");
      }
    }
  }
  return groups;
}

}  // namespace tripletstream
