#ifndef TRIPLETSTREAM_TRAINER_RELU_DROPOUT_H_
#define TRIPLETSTREAM_TRAINER_RELU_DROPOUT_H_

#include <torch/torch.h>

#include <cstdint>

namespace tripletstream {

// ReLU followed by inverted dropout, fused, with counter-based masks:
//   y_i = x_i / (1 - p)  if x_i > 0 and element i is kept, else 0,
// where element i is kept unless a 32-bit hash of (key, i) falls below
// p * 2^32. The mask is a pure function of (key, i): no generator state, the
// same on any thread count, and reproduced exactly by a resumed run that
// replays the key. Backward needs only y (which the next convolution saves
// anyway): dx_i = dy_i / (1 - p) where y_i > 0, else 0.
//
// This replaces torch::relu + torch::nn::Dropout in the TCN's blocks: on CPU
// LibTorch 1.13 draws dropout masks with a sequential bernoulli_ that takes
// about a fifth of a training step (docs/benchmarks.md). p = 0 is a plain
// ReLU. Float32 CPU tensors use the fused kernel; other devices and dtypes
// fall back to torch::relu + torch::dropout (then the masks come from the
// device's generator).
torch::Tensor ReluDropout(const torch::Tensor& x, double p, uint64_t key);

// Whether element `index` is kept under (p, key): the fused kernel's mask,
// exposed for tests.
bool ReluDropoutKeeps(double p, uint64_t key, int64_t index);

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_TRAINER_RELU_DROPOUT_H_
