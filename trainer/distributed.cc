#include "trainer/distributed.h"

#include <glog/logging.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <chrono>
#include <cstring>
#include <exception>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace tripletstream {
namespace {

using Clock = std::chrono::steady_clock;

std::chrono::milliseconds Millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

// A collective's failure: a peer that went away (connection reset) or one
// that stopped answering (Gloo's timeout).
absl::Status CollectiveError(const std::string& what, const std::exception& e) {
  const std::string message = e.what();
  const bool timed_out = message.find("imed out") != std::string::npos ||
                         message.find("imeout") != std::string::npos;
  const std::string first_line = message.substr(0, message.find('\n'));
  std::string text = absl::StrCat(what, " failed: ", first_line,
                                  " (another trainer rank died, froze or stopped early)");
  return timed_out ? absl::DeadlineExceededError(text) : absl::UnavailableError(text);
}

}  // namespace

struct ProcessGroup::Impl {
  std::shared_ptr<void> store_owner;
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
#ifdef USE_C10D_NCCL
  // CUDA tensors' collectives when the backend is NCCL. Its timeouts are
  // enforced by NCCL's watchdog, which ends the process (exit non-zero)
  // instead of returning an error here (TORCH_NCCL_ASYNC_ERROR_HANDLING).
  c10::intrusive_ptr<c10d::ProcessGroupNCCL> nccl;
#endif

  // Runs `collective` on the group that carries `tensor`.
  template <typename Collective>
  c10::intrusive_ptr<c10d::Work> On(const torch::Tensor& tensor, Collective collective) {
#ifdef USE_C10D_NCCL
    if (nccl && tensor.is_cuda()) return collective(*nccl);
#endif
    return collective(*group);
  }
};

bool NcclBuilt() {
#ifdef USE_C10D_NCCL
  return true;
#else
  return false;
#endif
}

class ProcessGroup::Pending {
 public:
  explicit Pending(c10::intrusive_ptr<c10d::Work> work) : work_(std::move(work)) {}
  c10::intrusive_ptr<c10d::Work> work_;
  std::exception_ptr start_error_;
};

ProcessGroup::ProcessGroup(std::unique_ptr<Impl> impl, int rank, int world_size,
                           std::string backend)
    : impl_(std::move(impl)), backend_(std::move(backend)), rank_(rank),
      world_size_(world_size) {}

ProcessGroup::~ProcessGroup() = default;

absl::StatusOr<std::unique_ptr<ProcessGroup>> ProcessGroup::Join(
    const DistributedConfig& config) {
  c10d::TCPStoreOptions options;
  options.port = static_cast<std::uint16_t>(config.master_port);
  options.isServer = config.rank == 0;
  options.numWorkers = config.world_size;
  options.waitWorkers = true;
  options.timeout = Millis(config.timeout_s);
  c10::intrusive_ptr<c10d::TCPStore> store;
  try {
    store = c10::make_intrusive<c10d::TCPStore>(config.master_addr, options);
  } catch (const std::exception& e) {
    const std::string message = e.what();
    return absl::UnavailableError(absl::StrCat(
        "rank ", config.rank, " of ", config.world_size,
        config.rank == 0 ? " cannot host" : " cannot reach",
        " the rendezvous store at ", config.master_addr, ":", config.master_port, " within ",
        config.timeout_s, " s (--master_addr/--master_port, MASTER_ADDR/MASTER_PORT): ",
        message.substr(0, message.find('\n'))));
  }
  c10d::Store* raw = store.get();
  // The intrusive_ptr keeps the store alive; the owner only has to hold it.
  auto owner = std::shared_ptr<void>(new c10::intrusive_ptr<c10d::TCPStore>(store),
                                     [](void* p) {
                                       delete static_cast<c10::intrusive_ptr<c10d::TCPStore>*>(p);
                                     });
  const bool loopback = absl::StartsWith(config.master_addr, "127.") ||
                        config.master_addr == "localhost" || config.master_addr == "::1";
  return JoinWithStore(std::move(owner), raw, config.rank, config.world_size, config.timeout_s,
                       loopback, config.backend);
}

absl::StatusOr<std::unique_ptr<ProcessGroup>> ProcessGroup::JoinWithStore(
    std::shared_ptr<void> store_owner, c10d::Store* store, int rank, int world_size,
    double timeout_s, bool loopback, const std::string& backend) {
  if (backend != "gloo" && !(backend == "nccl" && NcclBuilt())) {
    return absl::InvalidArgumentError(
        absl::StrCat("collective backend '", backend, "' is not available in this build"));
  }
  auto impl = std::make_unique<Impl>();
  impl->store_owner = std::move(store_owner);
  impl->store = c10::intrusive_ptr<c10d::Store>::reclaim_copy(store);
  try {
    auto options = c10d::ProcessGroupGloo::Options::create(Millis(timeout_s));
    const char* interface = std::getenv("GLOO_SOCKET_IFNAME");
    if (interface != nullptr && *interface != '\0') {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(interface));
    } else if (loopback) {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    } else {
      options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    options->threads = 2;
    impl->group = c10::make_intrusive<c10d::ProcessGroupGloo>(impl->store, rank, world_size,
                                                              options);
  } catch (const std::exception& e) {
    return CollectiveError(absl::StrCat("joining the Gloo group as rank ", rank), e);
  }
#ifdef USE_C10D_NCCL
  if (backend == "nccl") {
    try {
      auto options = c10d::ProcessGroupNCCL::Options::create();
      options->timeout = Millis(timeout_s);
      // Its own key space in the store, apart from Gloo's.
      auto prefixed = c10::make_intrusive<c10d::PrefixStore>("nccl", impl->store);
      impl->nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(prefixed, rank, world_size,
                                                               options);
    } catch (const std::exception& e) {
      return CollectiveError(absl::StrCat("joining the NCCL group as rank ", rank), e);
    }
  }
#endif
  LOG(INFO) << "joined the process group as rank " << rank << " of " << world_size << " ("
            << (backend == "nccl" ? "NCCL for CUDA tensors, Gloo for the rest" : "Gloo")
            << ", collective timeout " << timeout_s << " s)";
  return std::unique_ptr<ProcessGroup>(
      new ProcessGroup(std::move(impl), rank, world_size, backend));
}

std::unique_ptr<ProcessGroup::Pending> ProcessGroup::StartAllReduceSum(torch::Tensor tensor) {
  std::vector<at::Tensor> tensors{std::move(tensor)};
  try {
    return std::make_unique<Pending>(
        impl_->On(tensors[0], [&](auto& group) { return group.allreduce(tensors); }));
  } catch (const std::exception&) {
    auto pending = std::make_unique<Pending>(c10::intrusive_ptr<c10d::Work>());
    pending->start_error_ = std::current_exception();
    return pending;
  }
}

absl::Status ProcessGroup::Wait(Pending& pending) {
  try {
    if (pending.start_error_) std::rethrow_exception(pending.start_error_);
    pending.work_->wait();
  } catch (const std::exception& e) {
    return CollectiveError("all-reduce", e);
  }
  return absl::OkStatus();
}

absl::Status ProcessGroup::Broadcast(std::vector<torch::Tensor> tensors) {
  try {
    for (torch::Tensor& tensor : tensors) {
      // Gloo broadcasts contiguous tensors; parameters are, buffers may not be.
      torch::Tensor flat = tensor.contiguous();
      std::vector<at::Tensor> one{flat};
      impl_->On(flat, [&](auto& group) { return group.broadcast(one); })->wait();
      if (!flat.is_same(tensor)) tensor.copy_(flat);
    }
  } catch (const std::exception& e) {
    return CollectiveError("broadcast", e);
  }
  return absl::OkStatus();
}

absl::Status ProcessGroup::BroadcastBytes(std::string* bytes) {
  torch::Tensor size = torch::tensor({static_cast<int64_t>(bytes->size())}, torch::kInt64);
  if (absl::Status s = Broadcast({size}); !s.ok()) return s;
  const int64_t n = size.item<int64_t>();
  torch::Tensor data = torch::empty({n}, torch::kUInt8);
  if (rank_ == 0 && n > 0) std::memcpy(data.data_ptr(), bytes->data(), n);
  if (n > 0) {
    if (absl::Status s = Broadcast({data}); !s.ok()) return s;
  }
  bytes->assign(static_cast<const char*>(data.data_ptr()), n);
  return absl::OkStatus();
}

absl::Status ProcessGroup::AllReduceSum(torch::Tensor tensor) {
  auto pending = StartAllReduceSum(std::move(tensor));
  return Wait(*pending);
}

absl::StatusOr<std::vector<torch::Tensor>> ProcessGroup::AllGather(const torch::Tensor& tensor) {
  std::vector<at::Tensor> input{tensor.contiguous()};
  std::vector<std::vector<at::Tensor>> output(1);
  for (int r = 0; r < world_size_; ++r) output[0].push_back(torch::empty_like(input[0]));
  try {
    impl_->group->allgather(output, input)->wait();
  } catch (const std::exception& e) {
    return CollectiveError("all-gather", e);
  }
  return output[0];
}

absl::Status ProcessGroup::Barrier() {
  try {
    impl_->group->barrier()->wait();
  } catch (const std::exception& e) {
    return CollectiveError("barrier", e);
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------

struct GradientReducer::Bucket {
  std::vector<size_t> parameters;
  torch::Tensor flat;       // Gradients (times the weight), then the extras.
  int64_t gradient_elements = 0;
  size_t waiting = 0;       // Gradients not arrived yet this step.
  std::unique_ptr<ProcessGroup::Pending> pending;
};

namespace {
// The last bucket's extras after the gradients: weight, weight x loss, stop
// vote, then one "had a gradient" flag per parameter.
constexpr int64_t kExtras = 3;
}  // namespace

GradientReducer::GradientReducer(ProcessGroup* group, std::vector<torch::Tensor> parameters,
                                 int64_t bucket_bytes)
    : group_(group), parameters_(std::move(parameters)) {
  const size_t n = parameters_.size();
  bucket_of_.resize(n);
  offset_of_.resize(n);
  arrived_.assign(n, false);
  // Reverse registration order: roughly the order backward finishes them.
  for (size_t k = 0; k < n; ++k) {
    const size_t i = n - 1 - k;
    const int64_t bytes = parameters_[i].numel() * parameters_[i].element_size();
    if (buckets_.empty() ||
        (buckets_.back()->gradient_elements > 0 &&
         (buckets_.back()->gradient_elements * 4 + bytes) > bucket_bytes)) {
      buckets_.push_back(std::make_unique<Bucket>());
    }
    Bucket& bucket = *buckets_.back();
    bucket_of_[i] = buckets_.size() - 1;
    offset_of_[i] = bucket.gradient_elements;
    bucket.parameters.push_back(i);
    bucket.gradient_elements += parameters_[i].numel();
  }
  if (buckets_.empty()) buckets_.push_back(std::make_unique<Bucket>());
  for (size_t b = 0; b < buckets_.size(); ++b) {
    const int64_t extras = b + 1 == buckets_.size() ? kExtras + static_cast<int64_t>(n) : 0;
    const auto options = n > 0 ? parameters_[0].options() : torch::TensorOptions();
    buckets_[b]->flat = torch::zeros({buckets_[b]->gradient_elements + extras},
                                     options.dtype(torch::kFloat32).requires_grad(false));
  }
  for (size_t i = 0; i < n; ++i) {
    hook_ids_.push_back(parameters_[i].register_hook(
        [this, i](const torch::Tensor& grad) { OnGradient(i, grad); }));
  }
}

GradientReducer::~GradientReducer() {
  for (size_t i = 0; i < hook_ids_.size(); ++i) parameters_[i].remove_hook(hook_ids_[i]);
}

void GradientReducer::Begin(double weight, double loss, double stop_vote) {
  weight_ = weight;
  active_ = true;
  next_to_start_ = 0;
  std::fill(arrived_.begin(), arrived_.end(), false);
  for (auto& bucket : buckets_) {
    bucket->flat.zero_();
    bucket->waiting = bucket->parameters.size();
    bucket->pending.reset();
  }
  Bucket& last = *buckets_.back();
  torch::NoGradGuard no_grad;
  torch::Tensor extras = last.flat.narrow(0, last.gradient_elements, kExtras);
  extras[0].fill_(weight);
  extras[1].fill_(weight > 0 ? weight * loss : 0.0);
  extras[2].fill_(stop_vote);
  // A rank without a batch starts nothing until Finish.
  if (weight == 0) active_ = false;
}

void GradientReducer::OnGradient(size_t parameter, const torch::Tensor& grad) {
  if (!active_ || arrived_[parameter]) return;
  arrived_[parameter] = true;
  Bucket& bucket = *buckets_[bucket_of_[parameter]];
  torch::NoGradGuard no_grad;
  bucket.flat.narrow(0, offset_of_[parameter], grad.numel())
      .copy_(grad.reshape({-1}))
      .mul_(weight_);
  --bucket.waiting;
  StartReadyBuckets();
}

void GradientReducer::StartReadyBuckets() {
  while (next_to_start_ < buckets_.size() && buckets_[next_to_start_]->waiting == 0) {
    Bucket& bucket = *buckets_[next_to_start_];
    if (next_to_start_ + 1 == buckets_.size()) {
      Bucket& last = bucket;
      torch::Tensor had = last.flat.narrow(0, last.gradient_elements + kExtras,
                                           static_cast<int64_t>(parameters_.size()));
      for (size_t i = 0; i < parameters_.size(); ++i) had[i].fill_(arrived_[i] ? 1.0 : 0.0);
    }
    bucket.pending = group_->StartAllReduceSum(bucket.flat);
    ++next_to_start_;
  }
}

absl::StatusOr<ReducedStep> GradientReducer::Finish() {
  active_ = false;
  // Buckets whose parameters got no gradient (none used, or no batch here).
  for (auto& bucket : buckets_) bucket->waiting = 0;
  StartReadyBuckets();
  const Clock::time_point start = Clock::now();
  for (auto& bucket : buckets_) {
    if (absl::Status s = group_->Wait(*bucket->pending); !s.ok()) return s;
  }
  ReducedStep step;
  Bucket& last = *buckets_.back();
  // The extras and the "had a gradient" flags, read once on the host. With
  // NCCL, Wait only orders the device stream; this copy is where the host
  // waits for the all-reduces, so the wait is timed after it.
  const torch::Tensor tail =
      last.flat.narrow(0, last.gradient_elements, kExtras + static_cast<int64_t>(parameters_.size()))
          .to(torch::kCPU)
          .contiguous();
  step.wait_s = std::chrono::duration<double>(Clock::now() - start).count();
  const float* extras = tail.data_ptr<float>();
  const float* had = extras + kExtras;
  step.total_weight = extras[0];
  step.mean_loss = step.total_weight > 0 ? extras[1] / step.total_weight : 0;
  step.stop_votes = extras[2];
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < parameters_.size(); ++i) {
    torch::Tensor& p = parameters_[i];
    if (had[i] == 0 || step.total_weight <= 0) {
      p.mutable_grad() = torch::Tensor();
      continue;
    }
    Bucket& bucket = *buckets_[bucket_of_[i]];
    torch::Tensor mean =
        bucket.flat.narrow(0, offset_of_[i], p.numel()).view(p.sizes()).div(step.total_weight);
    if (p.grad().defined()) {
      p.mutable_grad().copy_(mean);
    } else {
      p.mutable_grad() = mean.to(p.dtype());
    }
  }
  return step;
}

}  // namespace tripletstream
