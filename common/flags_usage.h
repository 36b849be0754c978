#ifndef TRIPLETSTREAM_COMMON_FLAGS_USAGE_H_
#define TRIPLETSTREAM_COMMON_FLAGS_USAGE_H_

#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"

namespace tripletstream {

// Makes --help list the flags defined in main.cc files (absl's default only
// lists flags from a file named after the program).
inline void ConfigureFlagsUsage() {
  absl::FlagsUsageConfig config;
  auto is_main = [](absl::string_view path) { return absl::EndsWith(path, "main.cc"); };
  config.contains_helpshort_flags = is_main;
  config.contains_help_flags = is_main;
  absl::SetFlagsUsageConfig(config);
}

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_COMMON_FLAGS_USAGE_H_
