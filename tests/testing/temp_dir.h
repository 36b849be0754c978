#ifndef TRIPLETSTREAM_TESTS_TESTING_TEMP_DIR_H_
#define TRIPLETSTREAM_TESTS_TESTING_TEMP_DIR_H_

#include <string>

namespace tripletstream::testing {

// A fresh directory under $TEST_TMPDIR (or /tmp), removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // Writes `contents` to path()/relative, creating parent folders; returns
  // the full path.
  std::string WriteFile(const std::string& relative,
                        const std::string& contents) const;

 private:
  std::string path_;
};

}  // namespace tripletstream::testing

#endif  // TRIPLETSTREAM_TESTS_TESTING_TEMP_DIR_H_
