#include "trainer/tcn.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/counter_rng.h"
#include "trainer/relu_dropout.h"

namespace tripletstream {

namespace F = torch::nn::functional;

std::string TcnOptions::ToString() const {
  std::string text =
      absl::StrFormat("in=%d ch=%d lv=%d k=%d do=%g emb=%d wn=%d", in_channels, channels,
                      levels, kernel_size, dropout, embedding, weight_norm ? 1 : 0);
  if (stats_pooling) absl::StrAppend(&text, " pool=stats");
  if (classes > 0) absl::StrAppend(&text, " cls=", classes);
  return text;
}

absl::StatusOr<TcnOptions> ParseTcnOptions(const std::string& text) {
  TcnOptions o;
  int weight_norm = 0;
  long long in, ch, lv, k, emb;
  double dropout;
  if (std::sscanf(text.c_str(), "in=%lld ch=%lld lv=%lld k=%lld do=%lf emb=%lld wn=%d", &in, &ch,
                  &lv, &k, &dropout, &emb, &weight_norm) != 7) {
    return absl::InvalidArgumentError(absl::StrCat("bad model config '", text, "'"));
  }
  o.in_channels = in;
  o.channels = ch;
  o.levels = lv;
  o.kernel_size = k;
  o.dropout = dropout;
  o.embedding = emb;
  o.weight_norm = weight_norm != 0;
  const size_t pool = text.find(" pool=");
  if (pool != std::string::npos) {
    const std::string kind = text.substr(pool + 6, text.find(' ', pool + 6) - (pool + 6));
    if (kind != "stats" && kind != "mean") {
      return absl::InvalidArgumentError(absl::StrCat("bad model config '", text, "'"));
    }
    o.stats_pooling = kind == "stats";
  }
  const size_t cls = text.find(" cls=");
  if (cls != std::string::npos) {
    long long classes = 0;
    if (std::sscanf(text.c_str() + cls, " cls=%lld", &classes) != 1 || classes < 1) {
      return absl::InvalidArgumentError(absl::StrCat("bad model config '", text, "'"));
    }
    o.classes = classes;
  }
  return o;
}

int64_t ReceptiveField(const TcnOptions& options) {
  return 1 + 2 * (options.kernel_size - 1) * ((int64_t{1} << options.levels) - 1);
}

CausalConv1dImpl::CausalConv1dImpl(int64_t in, int64_t out, int64_t kernel,
                                   int64_t dilation, bool weight_norm)
    : kernel_(kernel), dilation_(dilation), weight_norm_(weight_norm) {
  // Kaiming-uniform like torch::nn::Conv1d.
  const double bound = 1.0 / std::sqrt(static_cast<double>(in * kernel));
  v_ = register_parameter("weight", torch::empty({out, in, kernel}).uniform_(-bound, bound));
  bias_ = register_parameter("bias", torch::empty({out}).uniform_(-bound, bound));
  if (weight_norm_) {
    g_ = register_parameter("weight_g", v_.detach().flatten(1).norm(2, 1).view({out, 1, 1}));
  }
}

torch::Tensor CausalConv1dImpl::forward(const torch::Tensor& x) {
  torch::Tensor weight = v_;
  if (weight_norm_) {
    weight = g_ * v_ / v_.flatten(1).norm(2, 1).clamp_min(1e-12).view({-1, 1, 1});
  }
  const int64_t left = (kernel_ - 1) * dilation_;
  torch::Tensor padded = F::pad(x, F::PadFuncOptions({left, 0}));
  return F::conv1d(padded, weight, F::Conv1dFuncOptions().bias(bias_).dilation(dilation_));
}

TemporalBlockImpl::TemporalBlockImpl(int64_t in, int64_t out, int64_t kernel,
                                     int64_t dilation, double dropout, bool weight_norm)
    : conv1_(register_module("conv1", CausalConv1d(in, out, kernel, dilation, weight_norm))),
      conv2_(register_module("conv2", CausalConv1d(out, out, kernel, dilation, weight_norm))),
      dropout_(dropout) {
  if (in != out) {
    projection_ = register_module(
        "projection", torch::nn::Conv1d(torch::nn::Conv1dOptions(in, out, 1)));
  }
}

torch::Tensor TemporalBlockImpl::forward(const torch::Tensor& x, uint64_t dropout_key) {
  const double p = is_training() ? dropout_ : 0.0;
  torch::Tensor out = ReluDropout(conv1_(x), p, MakeKey({dropout_key, 1}));
  out = ReluDropout(conv2_(out), p, MakeKey({dropout_key, 2}));
  torch::Tensor residual = projection_ ? projection_(x) : x;
  return torch::relu(out + residual);
}

TcnImpl::TcnImpl(const TcnOptions& options) : options_(options) {
  blocks_ = register_module("blocks", torch::nn::ModuleList());
  int64_t in = options.in_channels;
  for (int64_t i = 0; i < options.levels; ++i) {
    blocks_->push_back(TemporalBlock(in, options.channels, options.kernel_size,
                                     int64_t{1} << i, options.dropout, options.weight_norm));
    in = options.channels;
  }
  const int64_t dropout_seed =
      torch::randint(int64_t{1} << 62, {1}, torch::kInt64).item<int64_t>();
  dropout_state_ = register_buffer("dropout_state",
                                   torch::tensor({dropout_seed, int64_t{0}}, torch::kInt64));
  head_ = register_module(
      "head", torch::nn::Linear(options.channels * (options.stats_pooling ? 2 : 1),
                                options.embedding));
  if (options.classes > 0) {
    proxies_ = register_parameter("proxies", torch::randn({options.classes, options.embedding}));
  }
}

torch::Tensor TcnImpl::ProxyCosines(const torch::Tensor& embeddings) {
  TORCH_CHECK(proxies_.defined(), "model has no class proxies (classes = 0)");
  torch::Tensor p = F::normalize(proxies_, F::NormalizeFuncOptions().p(2).dim(1));
  return embeddings.matmul(p.t());
}

uint64_t TcnImpl::NextDropoutKey() {
  // Advance [seed, count] in place (on the model's device; a scalar copy
  // off a GPU is negligible next to a training step).
  torch::Tensor state = dropout_state_.cpu();
  const int64_t seed = state[0].item<int64_t>();
  const int64_t count = state[1].item<int64_t>() + 1;
  dropout_state_[1].fill_(count);
  const uint64_t key = MakeKey({static_cast<uint64_t>(seed), static_cast<uint64_t>(count)});
  return dropout_rank_ == 0 ? key : MakeKey({key, static_cast<uint64_t>(dropout_rank_)});
}

void TcnImpl::SkipTrainingForward() {
  torch::NoGradGuard no_grad;
  NextDropoutKey();
}

torch::Tensor TcnImpl::Features(const torch::Tensor& x) {
  const uint64_t key = is_training() ? NextDropoutKey() : 0;
  torch::Tensor h = x.permute({0, 2, 1});
  for (size_t i = 0; i < blocks_->size(); ++i) {
    h = blocks_[i]->as<TemporalBlockImpl>()->forward(h, MakeKey({key, i}));
  }
  return h;
}

torch::Tensor TcnImpl::forward(const torch::Tensor& x) {
  torch::Tensor h = Features(x);
  torch::Tensor pooled = h.mean(2);
  if (options_.stats_pooling) {
    // Standard deviation over time, kept away from 0 where its gradient is
    // infinite.
    torch::Tensor deviation = (h.var(2, /*unbiased=*/false) + 1e-5).sqrt();
    pooled = torch::cat({pooled, deviation}, 1);
  }
  return F::normalize(head_(pooled), F::NormalizeFuncOptions().p(2).dim(1));
}

}  // namespace tripletstream
