#ifndef TRIPLETSTREAM_TRAINER_TCN_H_
#define TRIPLETSTREAM_TRAINER_TCN_H_

#include <torch/torch.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace tripletstream {

struct TcnOptions {
  int64_t in_channels = 12;
  int64_t channels = 64;     // Width of every residual block.
  int64_t levels = 5;        // Blocks; block i uses dilation 2^i.
  int64_t kernel_size = 3;
  double dropout = 0.1;
  int64_t embedding = 128;   // Output size (L2-normalized).
  bool weight_norm = false;  // w = g * v / ||v|| per output channel.
  // Pooling over time before the head: false = the mean of each channel;
  // true = its mean and standard deviation (statistics pooling, as in
  // x-vectors), so the head sees how much each feature varies in a window.
  bool stats_pooling = false;
  // > 0: one learned proxy per user label (0..classes-1) for the normalized
  // softmax loss; training only, embeddings do not use them.
  int64_t classes = 0;

  // "in=12 ch=64 lv=5 k=3 do=0.1 emb=128 wn=0" (+ " pool=stats" with
  // statistics pooling, + " cls=N" with proxies): part of checkpoints.
  std::string ToString() const;
};

// Inverse of TcnOptions::ToString.
absl::StatusOr<TcnOptions> ParseTcnOptions(const std::string& text);

// Samples of input that one output step sees: 1 + 2 (k - 1) (2^levels - 1)
// (two causal convolutions per block).
int64_t ReceptiveField(const TcnOptions& options);

// A 1-D convolution padded on the left only, so output t sees inputs <= t.
class CausalConv1dImpl : public torch::nn::Module {
 public:
  CausalConv1dImpl(int64_t in, int64_t out, int64_t kernel, int64_t dilation,
                   bool weight_norm);
  torch::Tensor forward(const torch::Tensor& x);  // [N, C, T] -> [N, out, T]

 private:
  int64_t kernel_, dilation_;
  bool weight_norm_;
  torch::Tensor v_, g_, bias_;
};
TORCH_MODULE(CausalConv1d);

// Two dilated causal convolutions, each followed by ReLU and dropout (fused,
// trainer/relu_dropout.h), plus a residual connection (1x1 projection when
// widths differ).
class TemporalBlockImpl : public torch::nn::Module {
 public:
  TemporalBlockImpl(int64_t in, int64_t out, int64_t kernel, int64_t dilation,
                    double dropout, bool weight_norm);
  // In training mode the two dropout masks derive from `dropout_key`; in
  // eval mode there is no dropout and the key is ignored.
  torch::Tensor forward(const torch::Tensor& x, uint64_t dropout_key = 0);

 private:
  CausalConv1d conv1_{nullptr}, conv2_{nullptr};
  double dropout_;
  torch::nn::Conv1d projection_{nullptr};
};
TORCH_MODULE(TemporalBlock);

// Temporal Convolutional Network embedding: blocks, global average pooling
// over time, a linear projection, L2 normalization.
//
// Dropout masks are counter-based: every training-mode forward advances the
// buffer `dropout_state` = [seed, forwards so far] and keys its masks with
// it. The seed is drawn from LibTorch's generator at construction (so it
// follows torch::manual_seed), and the buffer is saved with the model, so a
// resumed run replays the same masks.
class TcnImpl : public torch::nn::Module {
 public:
  explicit TcnImpl(const TcnOptions& options);
  // x: [N, T, C] as sent by the server; returns [N, embedding], unit norm.
  torch::Tensor forward(const torch::Tensor& x);
  // The last block's output, [N, channels, T] (for causality tests).
  torch::Tensor Features(const torch::Tensor& x);
  // Cosines of unit-norm embeddings [N, embedding] to the class proxies:
  // [N, classes]. Needs options().classes > 0.
  torch::Tensor ProxyCosines(const torch::Tensor& embeddings);
  const TcnOptions& options() const { return options_; }
  // Data-parallel ranks draw different dropout masks: rank r > 0 adds r to
  // the mask key (rank 0 keeps the single trainer's masks).
  void set_dropout_rank(int rank) { dropout_rank_ = rank; }
  // Advances the dropout counter as a training forward would (a rank with
  // no batch at a step keeps its counter in step with the others).
  void SkipTrainingForward();

 private:
  uint64_t NextDropoutKey();

  TcnOptions options_;
  int dropout_rank_ = 0;
  torch::nn::ModuleList blocks_{nullptr};
  torch::Tensor dropout_state_;  // int64 [seed, training forwards so far].
  torch::nn::Linear head_{nullptr};
  torch::Tensor proxies_;  // [classes, embedding], when classes > 0.
};
TORCH_MODULE(Tcn);

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_TRAINER_TCN_H_
