#include "probe/stream_probe.h"

#include <chrono>
#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/digest.h"

namespace tripletstream {

absl::StatusOr<ProbeResult> RunProbe(const ProbeConfig& config) {
  const auto started = std::chrono::steady_clock::now();
  auto stream = BatchStream::Open(config.stream);
  if (!stream.ok()) return stream.status();
  ProbeResult result;
  uint64_t epoch_digest = 0;
  int64_t epochs_seen = 0;
  int64_t epoch = -1;
  auto end_epoch = [&] {
    if (epochs_seen > 0) result.stream_digest = CombineDigest(result.stream_digest, epoch_digest);
  };
  for (;;) {
    absl::StatusOr<std::unique_ptr<v1::Batch>> batch = (*stream)->Next();
    if (!batch.ok()) {
      if (batch.status().code() != absl::StatusCode::kOutOfRange) return batch.status();
      break;
    }
    const v1::Batch& b = **batch;
    if (b.epoch() != epoch) {
      end_epoch();
      epoch = b.epoch();
      epoch_digest = 0;
      ++epochs_seen;
    }
    epoch_digest = CombineDigest(epoch_digest, b.digest());
    ++result.batches;
    result.triplets +=
        b.mode() == v1::SAMPLING_MODE_TRIPLET ? b.labels_size() / 3 : b.labels_size();
    result.payload_bytes += static_cast<int64_t>(b.data().size());
    if (config.read_delay_ms > 0) {
      std::this_thread::sleep_for(
          std::chrono::microseconds(static_cast<int64_t>(config.read_delay_ms * 1000)));
    }
    (*stream)->Recycle(*std::move(batch));
  }
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  // One epoch: its digest as is (equal to the trainer's digest= of it).
  if (epochs_seen == 1) {
    result.stream_digest = epoch_digest;
  } else {
    end_epoch();
  }
  result.stats = (*stream)->stats();
  const BatchStreamOptions& o = config.stream;
  if (o.end_index > 0 && o.epochs == 1) {
    const int64_t expected = o.end_index > o.start_index ? o.end_index - o.start_index : 0;
    if (o.world_size == 1 && result.batches != expected) {
      return absl::OutOfRangeError(absl::StrCat("asked for ", expected,
                                                " batches from index ", o.start_index,
                                                ", the epoch ended after ", result.batches));
    }
  }
  return result;
}

}  // namespace tripletstream
