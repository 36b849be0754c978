// Fuzzes checkpoint file verification (trainer/checkpoint_files.h). Loading a
// checkpoint itself is LibTorch-based (trainer/checkpoint.cc), which is slow
// to build with clang here, so this target covers the LibTorch-free layer in
// front of it: VerifyCheckpointFile and VerifiedCheckpointPath on files
// written from the input, i.e. fuzzed digest-file contents (and checkpoint
// bytes, and which of checkpoint / digest / previous files exist).
//
// Input: byte 0 = flags (which files exist; whether the digest file gets the
// real digest of the checkpoint as a prefix), then the digest file text up to
// the first 0xFF byte, then the checkpoint bytes.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "glog/logging.h"
#include "trainer/checkpoint_files.h"

namespace ts = tripletstream;

namespace {

const std::string& Dir() {
  static const std::string dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string d = std::string(tmp != nullptr ? tmp : "/tmp") + "/checkpoint_files_fuzzer." +
                    std::to_string(getpid());
    std::string cmd = "mkdir -p '" + d + "'";
    if (std::system(cmd.c_str()) != 0) std::abort();
    return d;
  }();
  return dir;
}

void Write(const std::string& path, absl::string_view bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) std::abort();
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  FLAGS_minloglevel = 3;  // glog: warnings about fuzzed input are expected.
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t flags = data[0];
  absl::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t split = rest.find('\xff');
  absl::string_view digest_text = rest.substr(0, split);
  absl::string_view checkpoint =
      split == absl::string_view::npos ? absl::string_view() : rest.substr(split + 1);

  const std::string path = Dir() + "/checkpoint.pt";
  const std::string prev = ts::PreviousCheckpointPath(path);
  const std::string files[] = {path, path + ".digest", prev, prev + ".digest"};
  for (const std::string& f : files) std::remove(f.c_str());

  if (!(flags & 1)) Write(path, checkpoint);
  if (!(flags & 2)) {
    std::string text(digest_text);
    if ((flags & 4) && !(flags & 1)) {
      // A digest file in the format CommitCheckpointFile writes
      // ("tripletstream-checkpoint-digest v1 HEX SIZE"), with the real
      // digest, and the real size or fuzzed text in its place.
      auto digest = ts::FileDigest(path);
      if (digest.ok()) {
        text = absl::StrFormat("tripletstream-checkpoint-digest v1 %016x ", *digest) +
               ((flags & 8) ? absl::StrFormat("%d\n", checkpoint.size()) : std::string()) + text;
      }
    }
    Write(path + ".digest", text);
  }
  if (flags & 16) Write(prev, checkpoint.substr(0, checkpoint.size() / 2));
  if (flags & 32) Write(prev + ".digest", digest_text);

  (void)ts::VerifyCheckpointFile(path);
  (void)ts::VerifiedCheckpointPath(path);

  for (const std::string& f : files) std::remove(f.c_str());
  return 0;
}
