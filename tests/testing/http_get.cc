#include "tests/testing/http_get.h"

#include <httplib.h>

#include "absl/strings/str_cat.h"

namespace tripletstream::testing {

absl::StatusOr<HttpResponse> HttpGet(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(5);
  client.set_read_timeout(5);
  httplib::Result result = client.Get(path.c_str());
  if (!result) {
    return absl::UnavailableError(absl::StrCat("GET 127.0.0.1:", port, path, " failed: ",
                                               httplib::to_string(result.error())));
  }
  HttpResponse out;
  out.status = result->status;
  out.content_type = result->get_header_value("Content-Type");
  out.body = result->body;
  return out;
}

}  // namespace tripletstream::testing
