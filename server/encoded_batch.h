#ifndef TRIPLETSTREAM_SERVER_ENCODED_BATCH_H_
#define TRIPLETSTREAM_SERVER_ENCODED_BATCH_H_

#include <grpcpp/support/byte_buffer.h>

#include <cstdint>
#include <string>

#include "server/batch_builder.h"
#include "server/wire_blocks.h"

namespace tripletstream {

// A training batch already in wire format: the bytes of a serialized
// v1::Batch, written once, straight into a WireBlocks block that gRPC sends
// without copying. The builder's windows land in the `data` field's place
// (64-byte aligned) and are hashed there, so the payload is written once
// and read once (by the kernel) on its way out, where a filled v1::Batch is
// copied again by protobuf's serializer.
//
// The bytes equal v1::Batch::SerializeAsString() of BatchBuilder::Build's
// message (tests check it), so clients parse them as any v1::Batch.
struct EncodedBatch {
  grpc::ByteBuffer buffer;  // One slice; its block returns to the pool.
  int64_t index = -1;
  int64_t anchors = 0;        // Triplets (triplet mode) or windows (P*K).
  int64_t payload_bytes = 0;  // Of the data field.

  // The message bytes (for tests and tools; copies).
  std::string SerializeAsString() const;
};

// Builds batch `index` of `builder`'s epoch into `out`, replacing what it
// held. Blocks come from `blocks` (the process-wide pool by default).
void EncodeBatch(const BatchBuilder& builder, int64_t index, EncodedBatch* out,
                 WireBlocks* blocks = &WireBlocks::Default());

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_SERVER_ENCODED_BATCH_H_
