#ifndef TRIPLETSTREAM_TRAINER_TEMPLATE_FILE_H_
#define TRIPLETSTREAM_TRAINER_TEMPLATE_FILE_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tripletstream {

// The pooled template's group name: all windows of an enrollment together.
inline constexpr char kPooledGroup[] = "*";

// A user's enrollment templates, one per group (e.g. per activity), all from
// one checkpoint. On disk (text):
//   tripletstream-template v2 <user> <fingerprint> <model config>
//   <group> <value> <value> ...      one line per template, "*" = pooled
// v1 files (the header with "v1" and one line of values: a pooled template)
// are still read.
struct Template {
  std::string user, fingerprint, model_config;
  std::map<std::string, std::vector<float>> groups;

  // The template for `group` (empty = pooled); NOT_FOUND naming the groups
  // the file holds.
  absl::StatusOr<const std::vector<float>*> For(const std::string& group) const;
};

// Writes atomically (a temporary file renamed over `path`). User and group
// names must be non-empty and without whitespace; INVALID_ARGUMENT otherwise.
absl::Status WriteTemplate(const std::string& path, const Template& t);

// NOT_FOUND when `path` cannot be read; INVALID_ARGUMENT naming the file and
// line when it is not a template.
absl::StatusOr<Template> ReadTemplate(const std::string& path);

// Enrolls `values` as `group` (empty = pooled) of `user`'s templates in
// `path`: creates the file, or replaces that group and keeps the others when
// the file holds the same user and checkpoint (FAILED_PRECONDITION naming
// what differs otherwise).
absl::Status EnrollTemplate(const std::string& path, const std::string& user,
                            const std::string& fingerprint, const std::string& model_config,
                            const std::string& group, std::vector<float> values);

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_TRAINER_TEMPLATE_FILE_H_
