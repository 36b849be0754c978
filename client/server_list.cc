#include "client/server_list.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace tripletstream {
namespace {

constexpr char kDnsPrefix[] = "dns:///";
constexpr char kFilePrefix[] = "file:";

absl::StatusOr<std::vector<std::string>> Resolve(const std::string& entry) {
  const std::string target = entry.substr(sizeof(kDnsPrefix) - 1);
  const size_t colon = target.rfind(':');
  if (colon == std::string::npos || colon + 1 == target.size()) {
    return absl::InvalidArgumentError(absl::StrCat("server '", entry, "' has no port"));
  }
  std::string host = target.substr(0, colon);
  const std::string port = target.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  const int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &result);
  if (rc != 0) {
    return absl::NotFoundError(
        absl::StrCat("cannot resolve '", entry, "': ", gai_strerror(rc)));
  }
  std::vector<std::string> out;
  for (addrinfo* a = result; a != nullptr; a = a->ai_next) {
    char text[INET6_ADDRSTRLEN] = {0};
    if (a->ai_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr, text,
                sizeof(text));
      out.push_back(absl::StrCat(text, ":", port));
    } else if (a->ai_family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr, text,
                sizeof(text));
      out.push_back(absl::StrCat("[", text, "]:", port));
    }
  }
  freeaddrinfo(result);
  return out;
}

// The HOST:PORT lines of a server list file ('#' comments, blank lines
// skipped), in file order.
absl::StatusOr<std::vector<std::string>> ReadServerFile(const std::string& entry) {
  const std::string path = entry.substr(std::strlen(kFilePrefix));
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("server list file ", path, " cannot be read"));
  }
  std::vector<std::string> out;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const std::string item(absl::StripAsciiWhitespace(line.substr(0, line.find('#'))));
    if (item.empty()) continue;
    if (item.rfind(':') == std::string::npos || absl::StrContains(item, ' ')) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", number, ": '", item, "' is not HOST:PORT"));
    }
    out.push_back(item);
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ExpandServers(const std::vector<std::string>& servers) {
  std::vector<std::string> out;
  for (const std::string& entry : servers) {
    if (absl::StartsWith(entry, kFilePrefix)) {
      auto listed = ReadServerFile(entry);
      if (!listed.ok()) return listed.status();
      for (const std::string& address : *listed) {
        if (std::find(out.begin(), out.end(), address) == out.end()) out.push_back(address);
      }
      continue;
    }
    if (!absl::StartsWith(entry, kDnsPrefix)) {
      // gRPC's static address lists, "ipv4:A:P,B:P" and "ipv6:[A]:P,...",
      // arrive split at the commas: each item is one server.
      std::string plain = entry;
      for (const char* scheme : {"ipv4:", "ipv6:"}) {
        if (absl::StartsWith(plain, scheme)) plain = plain.substr(5);
      }
      if (plain.empty() || plain.rfind(':') == std::string::npos) {
        return absl::InvalidArgumentError(absl::StrCat("server '", entry, "' has no port"));
      }
      if (std::find(out.begin(), out.end(), plain) == out.end()) out.push_back(plain);
      continue;
    }
    auto addresses = Resolve(entry);
    if (!addresses.ok()) return addresses.status();
    std::sort(addresses->begin(), addresses->end());
    for (const std::string& address : *addresses) {
      if (std::find(out.begin(), out.end(), address) == out.end()) out.push_back(address);
    }
  }
  return out;
}

std::vector<std::string> SplitServerList(absl::string_view flag_value) {
  return absl::StrSplit(flag_value, ',', absl::SkipWhitespace());
}

}  // namespace tripletstream
