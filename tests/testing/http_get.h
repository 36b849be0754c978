#ifndef TRIPLETSTREAM_TESTS_TESTING_HTTP_GET_H_
#define TRIPLETSTREAM_TESTS_TESTING_HTTP_GET_H_

#include <string>

#include "absl/status/statusor.h"

namespace tripletstream::testing {

struct HttpResponse {
  int status = 0;
  std::string content_type;
  std::string body;
};

// GET http://127.0.0.1:port/path (cpp-httplib client, 5 s timeouts).
// UNAVAILABLE when nothing answers.
absl::StatusOr<HttpResponse> HttpGet(int port, const std::string& path);

}  // namespace tripletstream::testing

#endif  // TRIPLETSTREAM_TESTS_TESTING_HTTP_GET_H_
