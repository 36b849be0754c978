// A C ABI over common/digest.h for foreign callers (the Python package loads
// it with ctypes): the same digests the server writes and C++ clients check.
#include <cstddef>
#include <cstdint>

#include "common/digest.h"

extern "C" {

uint64_t tripletstream_payload_digest(const void* data, size_t bytes, const int32_t* labels,
                                      size_t num_labels) {
  return tripletstream::PayloadDigest(data, bytes, labels, num_labels);
}

uint64_t tripletstream_combine_digest(uint64_t state, uint64_t value) {
  return tripletstream::CombineDigest(state, value);
}

}  // extern "C"
