#ifndef TRIPLETSTREAM_TESTS_TESTING_FIXTURES_H_
#define TRIPLETSTREAM_TESTS_TESTING_FIXTURES_H_

#include <memory>

#include "common/prepared_dataset.h"
#include "tests/testing/synthetic_data.h"

namespace tripletstream::testing {

// A small prepared dataset: 6 synthetic users x 3 sessions x 300 rows x 3
// channels, window 32 stride 16, user_5 in test, session_2 held out.
inline std::shared_ptr<const PreparedDataset> SmallPreparedDataset() {
  SyntheticSpec spec;
  spec.users = 6;
  spec.sessions_per_user = 3;
  spec.rows_per_session = 300;
  spec.channels = 3;
  PreprocessConfig config;
  config.window_length = 32;
  config.window_stride = 16;
  config.split.test_user_regex = "user_5";
  config.split.holdout_session_regex = "session_2";
  auto prepared = PrepareDataset(MakeSyntheticDataset(spec), config);
  if (!prepared.ok()) return nullptr;
  return std::shared_ptr<const PreparedDataset>(*std::move(prepared));
}

}  // namespace tripletstream::testing

#endif  // TRIPLETSTREAM_TESTS_TESTING_FIXTURES_H_
