#ifndef TRIPLETSTREAM_TESTS_TESTING_FIXTURES_H_
#define TRIPLETSTREAM_TESTS_TESTING_FIXTURES_H_

#include <memory>

#include "common/prepared_dataset.h"
#include "tests/testing/synthetic_data.h"

namespace tripletstream::testing {

// The synthetic users of `spec` prepared with `config`; nullptr on error.
inline std::shared_ptr<const PreparedDataset> PrepareSynthetic(const SyntheticSpec& spec,
                                                               const PreprocessConfig& config) {
  auto prepared = PrepareDataset(MakeSyntheticDataset(spec), config);
  if (!prepared.ok()) return nullptr;
  return std::shared_ptr<const PreparedDataset>(*std::move(prepared));
}

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
  return PrepareSynthetic(spec, config);
}

// A dataset whose training epoch (~45 MB of triplet payload, 4 users x 2
// sessions x 20000 rows x 12 channels, window 128 stride 64, all users
// train) is far larger than anything the HTTP/2 transport buffers, so a
// client that stops reading really does stop the server's producers.
inline std::shared_ptr<const PreparedDataset> LargePreparedDataset() {
  SyntheticSpec spec;
  spec.users = 4;
  spec.sessions_per_user = 2;
  spec.rows_per_session = 20000;
  spec.channels = 12;
  PreprocessConfig config;
  config.window_length = 128;
  config.window_stride = 64;
  config.split.train_fraction = 1.0;
  config.split.val_fraction = 0.0;
  config.split.test_fraction = 0.0;
  return PrepareSynthetic(spec, config);
}

}  // namespace tripletstream::testing

#endif  // TRIPLETSTREAM_TESTS_TESTING_FIXTURES_H_
