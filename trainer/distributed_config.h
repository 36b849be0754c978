#ifndef TRIPLETSTREAM_TRAINER_DISTRIBUTED_CONFIG_H_
#define TRIPLETSTREAM_TRAINER_DISTRIBUTED_CONFIG_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"

namespace tripletstream {

// Data-parallel training: rank `rank` of `world_size` trainer processes.
// One rank is the plain single trainer.
struct DistributedConfig {
  int rank = 0;
  int world_size = 1;
  std::string master_addr = "127.0.0.1";  // Where rank 0 hosts the rendezvous store.
  int master_port = 29500;
  // Rendezvous and every collective fail after this long: a rank that dies
  // or freezes makes the others exit instead of hanging. Must exceed rank
  // 0's evaluation time (the others wait for it at a barrier).
  double timeout_s = 300;
  // Which c10d backend carries the collectives: "gloo" (TCP, CPU or CUDA
  // tensors) or "nccl" (CUDA tensors; where the LibTorch build has it).
  // ResolveCollectiveBackend turns the flag's "auto" into one of them.
  std::string backend = "gloo";
  bool enabled() const { return world_size > 1; }
};

// The trainer's flags for it; unset (-1 / empty) ones come from the
// environment torchrun and Kubeflow's PyTorchJob set.
struct DistributedFlags {
  int rank = -1;             // --rank, else RANK, else 0.
  int world_size = -1;       // --world_size, else WORLD_SIZE, else 1.
  std::string master_addr;   // --master_addr, else MASTER_ADDR, else 127.0.0.1.
  int master_port = -1;      // --master_port, else MASTER_PORT, else 29500.
  double timeout_s = 300;    // --collective_timeout_s.
  std::string backend = "auto";  // --collective_backend: auto, gloo or nccl.
};

// Flags first, then `getenv` (injectable for tests). INVALID_ARGUMENT names
// the flag or variable that is malformed or out of range.
absl::StatusOr<DistributedConfig> ResolveDistributedConfig(
    const DistributedFlags& flags,
    const std::function<const char*(const char*)>& getenv);

// "auto" is NCCL when this build has it and the device is CUDA, else Gloo.
// INVALID_ARGUMENT for an unknown name, NCCL on a build without it (Debian's
// LibTorch is CPU-only) or NCCL with a CPU device. Gradient buckets and the
// parameter broadcast go through the chosen backend; CPU-side agreement
// (checkpoint bytes, digests, barriers) always goes through Gloo.
absl::StatusOr<std::string> ResolveCollectiveBackend(const std::string& flag,
                                                     const std::string& device,
                                                     bool nccl_built);

// LOCAL_RANK (the CUDA device of this process on its machine), or -1.
int LocalRankFromEnvironment(const std::function<const char*(const char*)>& getenv);

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_TRAINER_DISTRIBUTED_CONFIG_H_
