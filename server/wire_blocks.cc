#include "server/wire_blocks.h"

#include <algorithm>
#include <cstdlib>
#include <new>

namespace tripletstream {
namespace {

constexpr size_t kAlign = 64;
// Capacities are rounded up to this, so batches of nearby sizes share blocks.
constexpr size_t kGranule = size_t{64} << 10;

}  // namespace

WireBlocks& WireBlocks::Default() {
  static WireBlocks* const pool = new WireBlocks(size_t{256} << 20);  // Never destroyed.
  return *pool;
}

WireBlocks::~WireBlocks() {
  absl::MutexLock lock(&mu_);
  for (auto& [capacity, block] : free_) {
    std::free(block->data);
    delete block;
  }
}

WireBlocks::Block* WireBlocks::Take(size_t bytes) {
  {
    absl::MutexLock lock(&mu_);
    auto it = free_.lower_bound(bytes);
    if (it != free_.end() && it->first <= 2 * bytes + kGranule) {
      Block* block = it->second;
      free_.erase(it);
      free_bytes_ -= block->capacity;
      ++blocks_out_;
      bytes_out_ += static_cast<int64_t>(block->capacity);
      return block;
    }
  }
  const size_t capacity = std::max(kGranule, (bytes + kGranule - 1) / kGranule * kGranule);
  auto* block = new Block;
  block->data = static_cast<char*>(std::aligned_alloc(kAlign, capacity));
  if (block->data == nullptr) throw std::bad_alloc();
  block->capacity = capacity;
  block->owner = this;
  absl::MutexLock lock(&mu_);
  ++blocks_out_;
  bytes_out_ += static_cast<int64_t>(capacity);
  return block;
}

void WireBlocks::Give(Block* block) {
  {
    absl::MutexLock lock(&mu_);
    --blocks_out_;
    bytes_out_ -= static_cast<int64_t>(block->capacity);
    if (free_bytes_ + block->capacity <= retain_bytes_) {
      free_.emplace(block->capacity, block);
      free_bytes_ += block->capacity;
      return;
    }
  }
  std::free(block->data);
  delete block;
}

void WireBlocks::GiveBack(void* block) {
  auto* b = static_cast<Block*>(block);
  b->owner->Give(b);
}

int64_t WireBlocks::blocks_out() const {
  absl::MutexLock lock(&mu_);
  return blocks_out_;
}

int64_t WireBlocks::bytes_out() const {
  absl::MutexLock lock(&mu_);
  return bytes_out_;
}

int64_t WireBlocks::bytes_kept() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int64_t>(free_bytes_);
}

}  // namespace tripletstream
