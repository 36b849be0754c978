#include "server/encoded_batch.h"

#include <grpcpp/support/slice.h>

#include <cstring>
#include <vector>


namespace tripletstream {
namespace {

// Protobuf wire format (https://protobuf.dev/programming-guides/encoding/):
// a tag is (field << 3) | type; type 0 varint, 1 fixed64, 2 length-delimited.
constexpr char kEpochTag = (1 << 3) | 0;
constexpr char kIndexTag = (2 << 3) | 0;
constexpr char kBatchesPerEpochTag = (3 << 3) | 0;
constexpr char kModeTag = (4 << 3) | 0;
constexpr char kShapeTag = (5 << 3) | 2;
constexpr char kDtypeTag = (6 << 3) | 0;
constexpr char kDataTag = (7 << 3) | 2;
constexpr char kLabelsTag = (8 << 3) | 2;
constexpr char kDigestTag = (9 << 3) | 1;
constexpr size_t kMaxVarint = 10;
constexpr size_t kHeaderRoom = 128;  // Tags, 4 dims, lengths: well under.
constexpr size_t kAlign = 64;

char* PutVarint(char* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// int32/int64/enum values are varints of their 64-bit two's complement.
uint64_t AsVarint(int64_t v) { return static_cast<uint64_t>(v); }

// Proto3 leaves fields at their default value out.
char* PutVarintField(char* p, char tag, int64_t v) {
  if (v == 0) return p;
  *p++ = tag;
  return PutVarint(p, AsVarint(v));
}

}  // namespace

std::string EncodedBatch::SerializeAsString() const {
  grpc::Slice slice;
  if (!buffer.DumpToSingleSlice(&slice).ok()) return std::string();
  return std::string(reinterpret_cast<const char*>(slice.begin()), slice.size());
}

void EncodeBatch(const BatchBuilder& builder, int64_t index, EncodedBatch* out,
                 WireBlocks* blocks) {
  const BatchBuilder::Layout layout = builder.LayoutOf(index);
  const size_t payload = static_cast<size_t>(layout.floats) * sizeof(float);

  // Fields 1-7 up to the data bytes, in field order as protobuf writes them.
  char header[kHeaderRoom];
  char* h = header;
  h = PutVarintField(h, kEpochTag, builder.epoch());
  h = PutVarintField(h, kIndexTag, index);
  h = PutVarintField(h, kBatchesPerEpochTag, builder.batches_per_epoch());
  h = PutVarintField(h, kModeTag, layout.mode);
  size_t shape_bytes = 0;
  for (int64_t d : layout.shape) shape_bytes += VarintSize(AsVarint(d));
  if (shape_bytes > 0) {
    *h++ = kShapeTag;
    h = PutVarint(h, shape_bytes);
    for (int64_t d : layout.shape) h = PutVarint(h, AsVarint(d));
  }
  h = PutVarintField(h, kDtypeTag, v1::DTYPE_FLOAT32);
  if (payload > 0) {
    *h++ = kDataTag;
    h = PutVarint(h, payload);
  }
  const size_t header_bytes = static_cast<size_t>(h - header);

  // The header ends where the block is aligned, so the windows are too.
  const size_t pad = (kAlign - header_bytes % kAlign) % kAlign;
  const size_t labels_room = 1 + kMaxVarint + kMaxVarint * static_cast<size_t>(layout.labels);
  const size_t digest_room = 1 + 8;
  WireBlocks::Block* block =
      blocks->Take(pad + header_bytes + payload + labels_room + digest_room);
  char* const start = block->data + pad;
  std::memcpy(start, header, header_bytes);
  char* p = start + header_bytes;

  thread_local std::vector<int32_t> labels;
  labels.resize(static_cast<size_t>(layout.labels));
  const uint64_t digest = builder.Fill(index, reinterpret_cast<float*>(p), labels.data());
  p += payload;

  if (!labels.empty()) {
    size_t label_bytes = 0;
    for (int32_t l : labels) label_bytes += VarintSize(AsVarint(l));
    *p++ = kLabelsTag;
    p = PutVarint(p, label_bytes);
    for (int32_t l : labels) p = PutVarint(p, AsVarint(l));
  }
  if (digest != 0) {
    *p++ = kDigestTag;
    std::memcpy(p, &digest, 8);  // Little-endian hosts only (see CMakeLists.txt).
    p += 8;
  }

  grpc::Slice slice(start, static_cast<size_t>(p - start), &WireBlocks::GiveBack, block);
  out->buffer = grpc::ByteBuffer(&slice, 1);
  out->index = index;
  out->anchors = layout.mode == v1::SAMPLING_MODE_TRIPLET ? layout.labels / 3 : layout.labels;
  out->payload_bytes = static_cast<int64_t>(payload);
}

}  // namespace tripletstream
