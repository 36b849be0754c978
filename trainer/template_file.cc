#include "trainer/template_file.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace tripletstream {
namespace {

bool IsName(const std::string& s) {
  return !s.empty() && s.find_first_of(" \t\r\n") == std::string::npos;
}

std::string GroupList(const Template& t) {
  std::vector<std::string> names;
  for (const auto& [name, values] : t.groups) names.push_back(name);
  return absl::StrJoin(names, ", ");
}

absl::StatusOr<std::vector<float>> ParseValues(const std::string& text, const std::string& where) {
  std::istringstream in(text);
  std::vector<float> values;
  std::string token;
  while (in >> token) {
    char* end = nullptr;
    const float v = std::strtof(token.c_str(), &end);
    if (end == token.c_str() || *end != '\0') {
      return absl::InvalidArgumentError(absl::StrCat(where, ": '", token, "' is not a number"));
    }
    values.push_back(v);
  }
  if (values.empty()) return absl::InvalidArgumentError(absl::StrCat(where, ": no values"));
  return values;
}

}  // namespace

absl::StatusOr<const std::vector<float>*> Template::For(const std::string& group) const {
  const std::string name = group.empty() ? kPooledGroup : group;
  auto it = groups.find(name);
  if (it == groups.end()) {
    return absl::NotFoundError(absl::StrCat(
        "the template of ", user, " has no ",
        group.empty() ? std::string("pooled template (enrolled without --group)")
                      : absl::StrCat("group '", group, "'"),
        "; it has: ", GroupList(*this)));
  }
  return &it->second;
}

absl::Status WriteTemplate(const std::string& path, const Template& t) {
  if (!IsName(t.user)) {
    return absl::InvalidArgumentError("--user must be non-empty and without spaces");
  }
  if (t.groups.empty()) return absl::InvalidArgumentError("a template needs values");
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << "tripletstream-template v2 " << t.user << " " << t.fingerprint << " "
        << t.model_config << "\n";
    for (const auto& [group, values] : t.groups) {
      if (!IsName(group)) {
        return absl::InvalidArgumentError(
            absl::StrCat("group name '", group, "' must be non-empty and without spaces"));
      }
      out << group;
      for (float v : values) out << " " << absl::StrFormat("%.9g", v);
      out << "\n";
    }
    out.close();
    if (!out) {
      std::remove(tmp.c_str());
      return absl::UnavailableError(absl::StrCat("cannot write template ", path));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return absl::UnavailableError(absl::StrCat("cannot write template ", path));
  }
  return absl::OkStatus();
}

absl::StatusOr<Template> ReadTemplate(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read template ", path));
  std::string header;
  std::getline(in, header);
  std::vector<std::string> fields = absl::StrSplit(header, absl::MaxSplits(' ', 4));
  if (fields.size() != 5 || fields[0] != "tripletstream-template" ||
      (fields[1] != "v1" && fields[1] != "v2")) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a tripletstream template"));
  }
  Template t;
  t.user = fields[2];
  t.fingerprint = fields[3];
  t.model_config = fields[4];
  std::string line;
  for (int number = 2; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    const std::string where = absl::StrCat(path, ":", number);
    std::string group = kPooledGroup;
    std::string values = line;
    if (fields[1] == "v2") {
      const size_t space = line.find(' ');
      group = line.substr(0, space);
      values = space == std::string::npos ? "" : line.substr(space + 1);
    }
    auto parsed = ParseValues(values, where);
    if (!parsed.ok()) return parsed.status();
    if (!t.groups.empty() && parsed->size() != t.groups.begin()->second.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": ", parsed->size(), " values where the first template has ",
                       t.groups.begin()->second.size()));
    }
    if (!t.groups.emplace(group, *std::move(parsed)).second) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": group '", group, "' twice"));
    }
    if (fields[1] == "v1") break;  // One line of values.
  }
  if (t.groups.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": no values"));
  return t;
}

absl::Status EnrollTemplate(const std::string& path, const std::string& user,
                            const std::string& fingerprint, const std::string& model_config,
                            const std::string& group, std::vector<float> values) {
  Template t;
  if (std::ifstream(path).good()) {
    auto existing = ReadTemplate(path);
    if (!existing.ok()) return existing.status();
    if (existing->user != user) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, " holds the templates of ", existing->user, ", not ", user,
                       ": use another --template_file"));
    }
    if (existing->fingerprint != fingerprint || existing->model_config != model_config) {
      return absl::FailedPreconditionError(absl::StrCat(
          path, " was enrolled with another checkpoint: use another --template_file"));
    }
    if (!existing->groups.empty() &&
        existing->groups.begin()->second.size() != values.size()) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, " holds templates of another size"));
    }
    t = *std::move(existing);
  }
  t.user = user;
  t.fingerprint = fingerprint;
  t.model_config = model_config;
  t.groups[group.empty() ? kPooledGroup : group] = std::move(values);
  return WriteTemplate(path, t);
}

}  // namespace tripletstream
