#include "trainer/checkpoint_files.h"

#include <glog/logging.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/digest.h"

namespace tripletstream {
namespace {

constexpr char kDigestHeader[] = "tripletstream-checkpoint-digest v1";

std::string DigestPath(const std::string& path) { return path + ".digest"; }

bool Exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

absl::Status Rename(const std::string& from, const std::string& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot rename ", from, " to ", to));
  }
  return absl::OkStatus();
}

// Writes the digest file of `path` (whose digest is `digest`) as `target`.
absl::Status WriteDigestFile(const std::string& target, uint64_t digest, int64_t size) {
  const std::string temporary = target + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << kDigestHeader << " " << absl::StrFormat("%016x", digest) << " " << size << "\n";
    out.flush();
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", temporary));
  }
  return Rename(temporary, target);
}

}  // namespace

std::string PreviousCheckpointPath(const std::string& path) {
  const std::filesystem::path p(path);
  return (p.parent_path() / (p.stem().string() + ".prev" + p.extension().string())).string();
}

absl::StatusOr<uint64_t> FileDigest(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::vector<char> buffer(1 << 20);
  uint64_t digest = 0;
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const std::streamsize got = in.gcount();
    if (got > 0) digest = Digest64(buffer.data(), static_cast<size_t>(got), digest);
  }
  if (in.bad()) return absl::DataLossError(absl::StrCat("cannot read ", path));
  return digest;
}

absl::Status VerifyCheckpointFile(const std::string& path) {
  if (!Exists(path)) return absl::NotFoundError(absl::StrCat(path, " does not exist"));
  std::ifstream in(DigestPath(path));
  if (!in) {
    return absl::UnimplementedError(absl::StrCat(path, " has no digest file"));
  }
  std::string line;
  std::getline(in, line);
  std::vector<std::string> parts = absl::StrSplit(line, ' ');
  uint64_t expected = 0;
  int64_t size = 0;
  if (parts.size() != 4 || absl::StrCat(parts[0], " ", parts[1]) != kDigestHeader ||
      !absl::SimpleHexAtoi(parts[2], &expected) || !absl::SimpleAtoi(parts[3], &size)) {
    return absl::DataLossError(absl::StrCat(DigestPath(path), " is not a digest file"));
  }
  std::error_code ec;
  const auto actual_size = std::filesystem::file_size(path, ec);
  if (ec || static_cast<int64_t>(actual_size) != size) {
    return absl::DataLossError(absl::StrCat(path, " has ", ec ? 0 : actual_size,
                                            " bytes, its digest file says ", size));
  }
  auto digest = FileDigest(path);
  if (!digest.ok()) return digest.status();
  if (*digest != expected) {
    return absl::DataLossError(absl::StrCat(path, " is damaged: its bytes do not match ",
                                            DigestPath(path)));
  }
  return absl::OkStatus();
}

absl::Status CommitCheckpointFile(const std::string& temporary, const std::string& path) {
  auto digest = FileDigest(temporary);
  if (!digest.ok()) return digest.status();
  std::error_code ec;
  const auto size = std::filesystem::file_size(temporary, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot stat ", temporary));
  // Keep the current checkpoint as the previous one only when it is good.
  const absl::Status current = VerifyCheckpointFile(path);
  if (current.ok() || absl::IsUnimplemented(current)) {
    const std::string previous = PreviousCheckpointPath(path);
    if (absl::Status s = Rename(path, previous); !s.ok()) return s;
    std::remove(DigestPath(previous).c_str());
    if (current.ok()) {
      if (absl::Status s = Rename(DigestPath(path), DigestPath(previous)); !s.ok()) return s;
    }
  }
  // Digest first: until the rename below, PATH is missing or old, and a
  // mismatch sends the loader to the previous checkpoint.
  if (absl::Status s = WriteDigestFile(DigestPath(path), *digest, static_cast<int64_t>(size));
      !s.ok()) {
    return s;
  }
  return Rename(temporary, path);
}

absl::StatusOr<std::string> VerifiedCheckpointPath(const std::string& path) {
  const absl::Status current = VerifyCheckpointFile(path);
  if (current.ok()) return path;
  if (absl::IsUnimplemented(current)) {
    LOG(WARNING) << current.message() << " (written by an older version): loading it unverified";
    return path;
  }
  const std::string previous = PreviousCheckpointPath(path);
  const absl::Status prev = VerifyCheckpointFile(previous);
  if (prev.ok() || absl::IsUnimplemented(prev)) {
    LOG(WARNING) << current.message() << "; resuming from the previous checkpoint " << previous;
    return previous;
  }
  if (absl::IsNotFound(current) && absl::IsNotFound(prev)) {
    return absl::NotFoundError(absl::StrCat("no checkpoint at ", path));
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "no intact checkpoint: ", current.message(), "; ", prev.message(),
      ". Remove ", path, "* and ", previous, "* to start over"));
}

}  // namespace tripletstream
