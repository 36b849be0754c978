#ifndef TRIPLETSTREAM_SERVER_WIRE_BLOCKS_H_
#define TRIPLETSTREAM_SERVER_WIRE_BLOCKS_H_

#include <cstddef>
#include <cstdint>
#include <map>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace tripletstream {

// Reusable memory blocks that outgoing messages are written into and handed
// to gRPC without a copy (as slices whose destroy callback gives the block
// back). gRPC may drop its last reference on any thread, at any time, even
// after the stream that wrote the block is gone, so the pool is process-wide
// and never destroyed.
//
// A block is taken for one message and comes back when gRPC is done with
// it. Freed blocks are kept for reuse up to `retain_bytes` in all (so a
// steady stream allocates nothing); beyond that they are freed.
class WireBlocks {
 public:
  struct Block {
    char* data = nullptr;
    size_t capacity = 0;
    WireBlocks* owner = nullptr;  // Give it back here.
  };

  // The process-wide pool (keeps up to 256 MiB of free blocks).
  static WireBlocks& Default();

  explicit WireBlocks(size_t retain_bytes) : retain_bytes_(retain_bytes) {}
  ~WireBlocks();
  WireBlocks(const WireBlocks&) = delete;
  WireBlocks& operator=(const WireBlocks&) = delete;

  // A block of at least `bytes`, 64-byte aligned: a free one no more than
  // twice that size, or a new one.
  Block* Take(size_t bytes);
  // Gives a block back (thread-safe; any thread).
  void Give(Block* block);
  // Gives `block` (a Block*) back to its owner: a slice destroy callback.
  static void GiveBack(void* block);

  // Blocks taken and not given back, and the bytes they hold.
  int64_t blocks_out() const;
  int64_t bytes_out() const;
  // Bytes of free blocks kept for reuse.
  int64_t bytes_kept() const;

 private:
  const size_t retain_bytes_;
  mutable absl::Mutex mu_;
  std::multimap<size_t, Block*> free_ ABSL_GUARDED_BY(mu_);  // By capacity.
  size_t free_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t blocks_out_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t bytes_out_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_SERVER_WIRE_BLOCKS_H_
