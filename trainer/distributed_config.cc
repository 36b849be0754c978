#include "trainer/distributed_config.h"

#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tripletstream {
namespace {

// `flag` when set (>= 0), else the integer in environment variable `name`,
// else `fallback`.
absl::StatusOr<int> IntFrom(int flag, const char* flag_name, const char* name, int fallback,
                            const std::function<const char*(const char*)>& getenv) {
  if (flag >= 0) return flag;
  const char* value = getenv(name);
  if (value == nullptr || *value == '\0') return fallback;
  int parsed = 0;
  if (!absl::SimpleAtoi(value, &parsed) || parsed < 0) {
    return absl::InvalidArgumentError(absl::StrCat("environment variable ", name, "='", value,
                                                   "' is not a non-negative integer (or set ",
                                                   flag_name, ")"));
  }
  return parsed;
}

}  // namespace

absl::StatusOr<DistributedConfig> ResolveDistributedConfig(
    const DistributedFlags& flags, const std::function<const char*(const char*)>& getenv) {
  DistributedConfig c;
  auto world = IntFrom(flags.world_size, "--world_size", "WORLD_SIZE", 1, getenv);
  if (!world.ok()) return world.status();
  auto rank = IntFrom(flags.rank, "--rank", "RANK", 0, getenv);
  if (!rank.ok()) return rank.status();
  auto port = IntFrom(flags.master_port, "--master_port", "MASTER_PORT", 29500, getenv);
  if (!port.ok()) return port.status();
  c.world_size = *world;
  c.rank = *rank;
  c.master_port = *port;
  if (!flags.master_addr.empty()) {
    c.master_addr = flags.master_addr;
  } else if (const char* addr = getenv("MASTER_ADDR"); addr != nullptr && *addr != '\0') {
    c.master_addr = addr;
  }
  c.timeout_s = flags.timeout_s;
  c.backend = flags.backend;
  if (c.world_size < 1) {
    return absl::InvalidArgumentError("--world_size (WORLD_SIZE) must be >= 1, got 0");
  }
  if (c.rank >= c.world_size) {
    return absl::InvalidArgumentError(absl::StrCat("--rank (RANK) must be in [0, ", c.world_size,
                                                   ") for world size ", c.world_size, ", got ",
                                                   c.rank));
  }
  if (c.master_port < 1 || c.master_port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--master_port (MASTER_PORT) must be in [1, 65535], got ", c.master_port));
  }
  if (!std::isfinite(c.timeout_s) || c.timeout_s <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--collective_timeout_s must be a finite number > 0, got ", c.timeout_s));
  }
  return c;
}

absl::StatusOr<std::string> ResolveCollectiveBackend(const std::string& flag,
                                                     const std::string& device,
                                                     bool nccl_built) {
  const bool cuda = absl::StartsWith(device, "cuda");
  if (flag == "gloo") return flag;
  if (flag == "auto") return std::string(cuda && nccl_built ? "nccl" : "gloo");
  if (flag != "nccl") {
    return absl::InvalidArgumentError(absl::StrCat(
        "--collective_backend must be auto, gloo or nccl, got '", flag, "'"));
  }
  if (!nccl_built) {
    return absl::InvalidArgumentError(
        "--collective_backend=nccl: this trainer was built against a LibTorch without NCCL "
        "(Debian's is CPU-only; bench/gpu_check.sh builds against a CUDA one); use "
        "--collective_backend=gloo or auto");
  }
  if (!cuda) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--collective_backend=nccl needs --device=cuda, got --device=", device));
  }
  return flag;
}

int LocalRankFromEnvironment(const std::function<const char*(const char*)>& getenv) {
  const char* value = getenv("LOCAL_RANK");
  int parsed = -1;
  if (value == nullptr || !absl::SimpleAtoi(value, &parsed) || parsed < 0) return -1;
  return parsed;
}

}  // namespace tripletstream
