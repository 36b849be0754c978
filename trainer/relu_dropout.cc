#include "trainer/relu_dropout.h"

#include <ATen/Parallel.h>

#include <cmath>

namespace tripletstream {
namespace {

// lowbias32 (Wellons): a bijective 32-bit mixer that vectorizes well.
inline uint32_t Hash32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

// Hash of (key, index); compared with a threshold to drop an element.
inline uint32_t MaskHash(uint32_t key_lo, uint32_t key_hi, uint32_t index) {
  return Hash32(Hash32(index + key_lo) ^ key_hi);
}

// Elements hashing below this are dropped: round(p * 2^32), p in [0, 1).
uint32_t DropThreshold(double p) {
  return static_cast<uint32_t>(std::min(std::llround(p * 4294967296.0), 4294967295LL));
}

constexpr int64_t kGrain = 1 << 15;

// The two loops are branch-free selects so that they vectorize (this file is
// compiled with -fno-trapping-math, as LibTorch is, which lets GCC if-convert
// the float comparisons); on x86-64 an AVX2 clone is picked at load time.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TRIPLETSTREAM_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define TRIPLETSTREAM_VECTOR_CLONES
#endif

TRIPLETSTREAM_VECTOR_CLONES
void ForwardRange(const float* in, float* out, int64_t begin, int64_t end, uint32_t key_lo,
                  uint32_t key_hi, uint32_t threshold, float scale) {
  for (int64_t i = begin; i < end; ++i) {
    const bool keep = MaskHash(key_lo, key_hi, static_cast<uint32_t>(i)) >= threshold;
    const float value = in[i];
    const float scaled = value * scale;
    out[i] = (keep & (value > 0.0f)) ? scaled : 0.0f;
  }
}

TRIPLETSTREAM_VECTOR_CLONES
void BackwardRange(const float* output, const float* grad, float* grad_input, int64_t begin,
                   int64_t end, float scale) {
  for (int64_t i = begin; i < end; ++i) {
    const float scaled = grad[i] * scale;
    grad_input[i] = output[i] > 0.0f ? scaled : 0.0f;
  }
}

class ReluDropoutFunction : public torch::autograd::Function<ReluDropoutFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               double p, int64_t key) {
    const torch::Tensor input = x.contiguous();
    torch::Tensor output = torch::empty_like(input);
    const float* in = input.data_ptr<float>();
    float* out = output.data_ptr<float>();
    const float scale = static_cast<float>(1.0 / (1.0 - p));
    const uint32_t threshold = DropThreshold(p);
    const uint32_t key_lo = static_cast<uint32_t>(key);
    const uint32_t key_hi = static_cast<uint32_t>(static_cast<uint64_t>(key) >> 32);
    at::parallel_for(0, input.numel(), kGrain, [&](int64_t begin, int64_t end) {
      ForwardRange(in, out, begin, end, key_lo, key_hi, threshold, scale);
    });
    ctx->save_for_backward({output});
    ctx->saved_data["scale"] = static_cast<double>(scale);
    return output;
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const torch::Tensor output = ctx->get_saved_variables()[0];
    const torch::Tensor grad = grads[0].contiguous();
    torch::Tensor grad_input = torch::empty_like(grad);
    const float scale = static_cast<float>(ctx->saved_data["scale"].toDouble());
    const float* y = output.data_ptr<float>();
    const float* g = grad.data_ptr<float>();
    float* dx = grad_input.data_ptr<float>();
    at::parallel_for(0, grad.numel(), kGrain, [&](int64_t begin, int64_t end) {
      BackwardRange(y, g, dx, begin, end, scale);
    });
    return {grad_input, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

bool ReluDropoutKeeps(double p, uint64_t key, int64_t index) {
  return MaskHash(static_cast<uint32_t>(key), static_cast<uint32_t>(key >> 32),
                  static_cast<uint32_t>(index)) >= DropThreshold(p);
}

torch::Tensor ReluDropout(const torch::Tensor& x, double p, uint64_t key) {
  TORCH_CHECK(p >= 0.0 && p < 1.0, "dropout probability must be in [0, 1), got ", p);
  if (p == 0.0) return torch::relu(x);
  if (!x.device().is_cpu() || x.scalar_type() != torch::kFloat32) {
    return torch::dropout(torch::relu(x), p, /*train=*/true);
  }
  return ReluDropoutFunction::apply(x, p, static_cast<int64_t>(key));
}

}  // namespace tripletstream
