#ifndef TRIPLETSTREAM_TRAINER_DISTRIBUTED_H_
#define TRIPLETSTREAM_TRAINER_DISTRIBUTED_H_

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "trainer/training.h"

namespace c10d {
class Store;
}  // namespace c10d

namespace tripletstream {

// A c10d process group of data-parallel trainer ranks (Gloo over TCP; the
// C++ frontend has no DistributedDataParallel, so GradientReducer below is
// the part of it this trainer needs). Every collective fails, instead of
// hanging, after the configured timeout: a rank that died or froze makes
// the others return UNAVAILABLE / DEADLINE_EXCEEDED.
class ProcessGroup {
 public:
  // Rendezvous at config.master_addr:master_port: rank 0 hosts c10d's
  // TCPStore there, every rank connects to it. UNAVAILABLE naming the
  // address when the store cannot be reached within the timeout.
  static absl::StatusOr<std::unique_ptr<ProcessGroup>> Join(const DistributedConfig& config);
  // Through a store the caller made (tests run ranks as threads).
  // `loopback`: every rank is on this host, so Gloo talks over 127.0.0.1;
  // otherwise over the interface this host's name resolves to
  // (GLOO_SOCKET_IFNAME names one explicitly, either way).
  // `backend` "nccl" adds an NCCL group for CUDA tensors (gradient buckets,
  // the parameter broadcast) beside the Gloo one, which keeps the CPU-side
  // collectives; only where NcclBuilt().
  static absl::StatusOr<std::unique_ptr<ProcessGroup>> JoinWithStore(
      std::shared_ptr<void> store_owner, c10d::Store* store, int rank, int world_size,
      double timeout_s, bool loopback, const std::string& backend = "gloo");
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const { return rank_; }
  const std::string& backend() const { return backend_; }
  int world_size() const { return world_size_; }

  // Rank 0's values into every rank's tensors, in place.
  absl::Status Broadcast(std::vector<torch::Tensor> tensors);
  // Rank 0's bytes into every rank's `bytes`.
  absl::Status BroadcastBytes(std::string* bytes);
  // Element-wise sum over ranks, in place.
  absl::Status AllReduceSum(torch::Tensor tensor);
  // Every rank's `tensor` (same shape everywhere), in rank order.
  absl::StatusOr<std::vector<torch::Tensor>> AllGather(const torch::Tensor& tensor);
  absl::Status Barrier();

  // Starts a sum all-reduce of `tensor` and returns a handle to wait on;
  // collectives must be started in the same order on every rank.
  class Pending;
  std::unique_ptr<Pending> StartAllReduceSum(torch::Tensor tensor);
  absl::Status Wait(Pending& pending);

 private:
  struct Impl;
  ProcessGroup(std::unique_ptr<Impl> impl, int rank, int world_size, std::string backend);
  std::unique_ptr<Impl> impl_;
  std::string backend_;
  int rank_ = 0;
  int world_size_ = 1;
};

// Whether this build has c10d's NCCL backend (a CUDA LibTorch with NCCL
// headers at configure time; see trainer/CMakeLists.txt).
bool NcclBuilt();

// What the ranks agreed on in one step.
struct ReducedStep {
  double total_weight = 0;  // Anchors over all ranks.
  double mean_loss = 0;     // The loss of the whole step (anchor-weighted).
  double stop_votes = 0;    // Sum of the ranks' stop votes (0 = go on).
  double wait_s = 0;        // Time spent waiting for the all-reduces.
};

// Averages gradients over the ranks the way DistributedDataParallel does:
// parameters are grouped into flat buckets in reverse registration order
// (the order backward produces their gradients); a gradient hook copies
// each gradient into its bucket as it is computed, and a bucket's
// all-reduce starts as soon as it and every bucket before it are full, so
// communication overlaps the rest of backward. Buckets start in index order
// on every rank, which keeps Gloo's collectives matched.
//
// Each rank contributes its gradient times its weight (the anchors in its
// batch), so the result is the gradient of the anchor-weighted mean loss
// over all ranks' batches: W ranks x B/W anchors step like one rank x B, and
// a rank without a batch joins with weight 0. The last bucket also carries
// the weight, the weighted loss, a stop vote and which parameters had a
// gradient, so every rank takes the same decision from the same figures.
class GradientReducer {
 public:
  GradientReducer(ProcessGroup* group, std::vector<torch::Tensor> parameters,
                  int64_t bucket_bytes = int64_t{1} << 20);
  ~GradientReducer();
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  // Before backward (or in place of it, weight 0, when this rank has no
  // batch this step).
  void Begin(double weight, double loss, double stop_vote);
  // After backward: starts the buckets not started yet, waits for all and
  // sets every parameter's gradient to the weighted mean (parameters that
  // no rank produced a gradient for keep none, as in a single process).
  absl::StatusOr<ReducedStep> Finish();

  int buckets() const { return static_cast<int>(buckets_.size()); }

 private:
  struct Bucket;
  void OnGradient(size_t parameter, const torch::Tensor& grad);
  void StartReadyBuckets();

  ProcessGroup* const group_;
  std::vector<torch::Tensor> parameters_;
  std::vector<std::unique_ptr<Bucket>> buckets_;
  std::vector<size_t> bucket_of_;       // Parameter -> bucket.
  std::vector<int64_t> offset_of_;      // Parameter -> offset in its bucket.
  std::vector<bool> arrived_;           // Gradient seen this step.
  std::vector<unsigned> hook_ids_;
  size_t next_to_start_ = 0;
  double weight_ = 0;
  bool active_ = false;
};

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_TRAINER_DISTRIBUTED_H_
