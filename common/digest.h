#ifndef TRIPLETSTREAM_COMMON_DIGEST_H_
#define TRIPLETSTREAM_COMMON_DIGEST_H_

#include <cstddef>
#include <cstdint>

struct XXH3_state_s;  // libxxhash's streaming state (xxhash.h).

namespace tripletstream {

// A fast, non-cryptographic 64-bit hash (wyhash-style multiply-mix over
// 32-byte blocks). It guards batches against corruption, loss and
// reordering on the wire; it is not a MAC. The value is part of the wire
// contract: it must not change between versions of tripletstream.v1.
uint64_t Digest64(const void* data, size_t size, uint64_t seed = 0);

// The name of the payload digest below, as GetDatasetInfo advertises it
// (field payload_digest): clients refuse a server that names another one.
inline constexpr char kPayloadDigestName[] = "xxh3-64";

// The digest carried by Batch and WindowBatch: XXH3-64 (seed 0) of the
// payload bytes, then XXH3-64 of the labels (int32, little-endian) seeded
// with it. XXH3 runs at memory speed (libxxhash picks SSE2/AVX2/AVX-512 at
// run time; its output is the same on every CPU).
uint64_t PayloadDigest(const void* data, size_t bytes, const int32_t* labels,
                       size_t num_labels);

// PayloadDigest computed while the payload is written: Update with the
// payload bytes in order, in pieces of any size, then Finish with the
// labels. The result equals PayloadDigest over the concatenated pieces.
// Hashing a window right after it was written reads it from L1 cache.
class PayloadHasher {
 public:
  PayloadHasher();
  ~PayloadHasher();
  PayloadHasher(const PayloadHasher&) = delete;
  PayloadHasher& operator=(const PayloadHasher&) = delete;

  // Starts a new payload.
  void Reset();
  void Update(const void* data, size_t bytes);
  uint64_t Finish(const int32_t* labels, size_t num_labels);

 private:
  XXH3_state_s* const state_;
};

// Order-dependent combination used to chain batch digests into one stream
// digest: Combine(Combine(0, a), b) != Combine(Combine(0, b), a).
uint64_t CombineDigest(uint64_t state, uint64_t value);

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_COMMON_DIGEST_H_
