#include "common/digest.h"

#include <xxhash.h>
#if defined(__x86_64__)
// The XXH3 calls below go to libxxhash's run-time dispatch (SSE2, AVX2 or
// AVX-512, whichever the CPU has): ~3x faster than its SSE2 baseline.
#include <xxh_x86dispatch.h>
#endif

#include <cstdlib>
#include <cstring>

namespace tripletstream {
namespace {

constexpr uint64_t kP0 = 0xa0761d6478bd642fULL;
constexpr uint64_t kP1 = 0xe7037ed1a0b428dbULL;
constexpr uint64_t kP2 = 0x8ebc6af09c88c6e3ULL;
constexpr uint64_t kP3 = 0x589965cc75374cc3ULL;

inline uint64_t Mum(uint64_t a, uint64_t b) {
  __uint128_t r = static_cast<__uint128_t>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

inline uint64_t Load64(const unsigned char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;  // Little-endian hosts only (x86-64, aarch64); see CMake check.
}

}  // namespace

uint64_t Digest64(const void* data, size_t size, uint64_t seed) {
  const auto* p = static_cast<const unsigned char*>(data);
  // Lanes start from distinct mixes of the seed, so the seed never cancels
  // out when lanes are folded together.
  uint64_t h0 = seed ^ kP0;
  uint64_t h1 = Mum(seed ^ kP1, kP2);
  uint64_t h2 = Mum(seed ^ kP2, kP3);
  uint64_t h3 = Mum(seed ^ kP3, kP0);
  size_t i = 0;
  // Four independent lanes keep the multipliers busy.
  for (; i + 32 <= size; i += 32) {
    h0 = Mum(Load64(p + i) ^ kP0, h0 ^ kP1);
    h1 = Mum(Load64(p + i + 8) ^ kP1, h1 ^ kP2);
    h2 = Mum(Load64(p + i + 16) ^ kP2, h2 ^ kP3);
    h3 = Mum(Load64(p + i + 24) ^ kP3, h3 ^ kP0);
  }
  uint64_t h = Mum(h0 ^ h2, h1 ^ h3 ^ kP2);
  for (; i + 8 <= size; i += 8) h = Mum(Load64(p + i) ^ kP1, h ^ kP0);
  uint64_t tail = 0;
  if (i < size) std::memcpy(&tail, p + i, size - i);
  return Mum(h ^ tail ^ kP3, static_cast<uint64_t>(size) ^ kP1);
}

uint64_t PayloadDigest(const void* data, size_t bytes, const int32_t* labels,
                       size_t num_labels) {
  return XXH3_64bits_withSeed(labels, num_labels * sizeof(int32_t), XXH3_64bits(data, bytes));
}

PayloadHasher::PayloadHasher() : state_(XXH3_createState()) {
  if (state_ == nullptr) std::abort();  // Out of memory.
  Reset();
}

PayloadHasher::~PayloadHasher() { XXH3_freeState(state_); }

void PayloadHasher::Reset() { XXH3_64bits_reset(state_); }

void PayloadHasher::Update(const void* data, size_t bytes) {
  XXH3_64bits_update(state_, data, bytes);
}

uint64_t PayloadHasher::Finish(const int32_t* labels, size_t num_labels) {
  return XXH3_64bits_withSeed(labels, num_labels * sizeof(int32_t), XXH3_64bits_digest(state_));
}

uint64_t CombineDigest(uint64_t state, uint64_t value) {
  return Mum(state ^ kP2, value ^ kP3);
}

}  // namespace tripletstream
