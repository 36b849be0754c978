#ifndef TRIPLETSTREAM_COMMON_COUNTER_RNG_H_
#define TRIPLETSTREAM_COMMON_COUNTER_RNG_H_

#include <cmath>
#include <cstdint>
#include <initializer_list>

namespace tripletstream {

// SplitMix64 finalizer: a bijective 64-bit mixer.
inline uint64_t Mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// Folds key parts into one 64-bit key, order-dependent.
inline uint64_t MakeKey(std::initializer_list<uint64_t> parts) {
  uint64_t key = 0x6a09e667f3bcc909ULL;
  for (uint64_t part : parts) key = Mix64(key ^ Mix64(part + 0x9e3779b97f4a7c15ULL));
  return key;
}

// Counter-based generator: the n-th output is Mix64(key + n * golden ratio),
// a pure function of (key, n). Nothing is shared between streams, so a batch
// sampled on any thread or server gets the same numbers.
class CounterRng {
 public:
  explicit CounterRng(uint64_t key) : key_(key) {}

  uint64_t Next() { return Mix64(key_ + (++counter_) * 0x9e3779b97f4a7c15ULL); }

  // Uniform in [0, n), n > 0 (Lemire's multiply-shift; bias < n / 2^64).
  uint64_t Below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<__uint128_t>(Next()) * n) >> 64);
  }

  // Uniform in [0, 1) with 53 bits.
  double Uniform() { return (Next() >> 11) * 0x1.0p-53; }

  // Approximately standard normal from one draw: the sum of four 16-bit
  // uniforms (Irwin-Hall), centred and scaled to unit variance. Bounded by
  // +-3.46; several times cheaper than Normal(). For augmentation noise.
  double FastNormal() {
    const uint64_t x = Next();
    const double sum = static_cast<double>((x & 0xffff) + ((x >> 16) & 0xffff) +
                                           ((x >> 32) & 0xffff) + (x >> 48));
    // Mean 4 * 65535/2, variance 4 * (65536^2 - 1)/12.
    return (sum - 131070.0) * (1.0 / 37837.2);
  }

  // Standard normal (Box-Muller, one value per call).
  double Normal() {
    double u1 = Uniform();
    double u2 = Uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  uint64_t key_;
  uint64_t counter_ = 0;
};

// A keyed pseudo-random permutation of [0, n) evaluated one element at a
// time (4-round Feistel network with cycle walking): the whole permutation
// never has to be materialized, so batch i can be built in isolation.
class IndexPermutation {
 public:
  IndexPermutation(uint64_t n, uint64_t key);
  uint64_t operator()(uint64_t i) const;
  uint64_t size() const { return n_; }

 private:
  uint64_t Encrypt(uint64_t x) const;
  uint64_t n_;
  uint64_t key_;
  int half_bits_;
  uint64_t half_mask_;
};

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_COMMON_COUNTER_RNG_H_
