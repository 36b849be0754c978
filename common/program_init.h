#ifndef TRIPLETSTREAM_COMMON_PROGRAM_INIT_H_
#define TRIPLETSTREAM_COMMON_PROGRAM_INIT_H_

// Shared start-up of the tripletstream executables. Header-only: only the
// main.cc files, which link absl::flags_parse, include it.

#include <glog/logging.h>

#include <cstdlib>
#include <vector>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"

namespace tripletstream {

// Sets the usage text, makes --help list the flags of main.cc files (absl's
// default lists only a file named after the program), parses the command
// line (exiting on bad flags) and starts glog, logging to stderr unless
// GLOG_logtostderr or GLOG_log_dir say otherwise. Returns the positional
// arguments (argv[0] first).
inline std::vector<char*> InitProgram(int argc, char** argv, absl::string_view usage) {
  absl::FlagsUsageConfig config;
  auto is_main = [](absl::string_view path) { return absl::EndsWith(path, "main.cc"); };
  config.contains_helpshort_flags = is_main;
  config.contains_help_flags = is_main;
  absl::SetFlagsUsageConfig(config);
  absl::SetProgramUsageMessage(usage);
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (std::getenv("GLOG_logtostderr") == nullptr && std::getenv("GLOG_log_dir") == nullptr) {
    FLAGS_logtostderr = true;
  }
  google::InitGoogleLogging(argv[0]);
  return positional;
}

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_COMMON_PROGRAM_INIT_H_
