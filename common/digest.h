#ifndef TRIPLETSTREAM_COMMON_DIGEST_H_
#define TRIPLETSTREAM_COMMON_DIGEST_H_

#include <cstddef>
#include <cstdint>

namespace tripletstream {

// A fast, non-cryptographic 64-bit hash (wyhash-style multiply-mix over
// 32-byte blocks). It guards batches against corruption, loss and
// reordering on the wire; it is not a MAC. The value is part of the wire
// contract: it must not change between versions of tripletstream.v1.
uint64_t Digest64(const void* data, size_t size, uint64_t seed = 0);

// The digest carried by Batch and WindowBatch: Digest64 of the payload
// bytes, then Digest64 of the labels (int32, little-endian) seeded with it.
uint64_t PayloadDigest(const void* data, size_t bytes, const int32_t* labels,
                       size_t num_labels);

// Order-dependent combination used to chain batch digests into one stream
// digest: Combine(Combine(0, a), b) != Combine(Combine(0, b), a).
uint64_t CombineDigest(uint64_t state, uint64_t value);

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_COMMON_DIGEST_H_
