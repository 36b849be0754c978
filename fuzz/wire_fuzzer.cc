// Fuzzes the Python-free wire contract checks (common/wire.h): CheckBatch and
// CheckWindowBatch on a v1::Batch / v1::WindowBatch parsed from the input, as
// a client would on whatever arrives from the network. Byte 0 picks the
// message type and whether the digest is verified; the rest is the message.
#include <cstdint>

#include "common/wire.h"
#include "google/protobuf/stubs/logging.h"
#include "tripletstream/v1/tripletstream.pb.h"

namespace ts = tripletstream;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);  // Quiet parse errors of fuzzed bytes.
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t selector = data[0];
  const bool verify_digest = (selector & 2) != 0;
  ++data;
  --size;
  if (selector & 1) {
    ts::v1::WindowBatch batch;
    if (!batch.ParseFromArray(data, static_cast<int>(size))) return 0;
    (void)ts::CheckWindowBatch(batch, batch.first_window(), verify_digest);
    (void)ts::CheckWindowBatch(batch, 0, verify_digest);
  } else {
    ts::v1::Batch batch;
    if (!batch.ParseFromArray(data, static_cast<int>(size))) return 0;
    (void)ts::CheckBatch(batch, batch.epoch(), batch.index(), verify_digest);
    (void)ts::CheckBatch(batch, 0, 0, verify_digest);
  }
  // Shard arithmetic from the same bytes.
  if (size >= 8) {
    const int rank = static_cast<int8_t>(data[0]);
    const int world = static_cast<int8_t>(data[1]);
    const int server = static_cast<int8_t>(data[2]);
    const int servers = static_cast<int8_t>(data[3]);
    if (world > 0 && servers > 0 && rank >= 0 && rank < world && server >= 0 && server < servers) {
      (void)ts::ShardFor(rank, world, server, servers);
    }
  }
  return 0;
}
