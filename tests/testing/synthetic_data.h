#ifndef TRIPLETSTREAM_TESTS_TESTING_SYNTHETIC_DATA_H_
#define TRIPLETSTREAM_TESTS_TESTING_SYNTHETIC_DATA_H_

#include <cstdint>
#include <string>

#include "common/dataset.h"

namespace tripletstream::testing {

struct SyntheticSpec {
  int users = 4;
  int sessions_per_user = 3;
  int rows_per_session = 300;
  int channels = 3;
  uint64_t seed = 1;
};

// Writes ROOT/user_<u>/session_<s>.csv files (layout a, comma, header
// "c0,c1,..."). Each user's signal is a user-specific sinusoid mix plus
// deterministic noise, so users are distinguishable. Returns the file count.
int WriteSyntheticUsers(const std::string& root, const SyntheticSpec& spec);

// The same signals as an in-memory Dataset: users "user_<u>", sessions
// "session_<s>", channels "c<i>", values as WriteSyntheticUsers writes them
// (before text rounding).
Dataset MakeSyntheticDataset(const SyntheticSpec& spec);

}  // namespace tripletstream::testing

#endif  // TRIPLETSTREAM_TESTS_TESTING_SYNTHETIC_DATA_H_
