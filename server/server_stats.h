#ifndef TRIPLETSTREAM_SERVER_SERVER_STATS_H_
#define TRIPLETSTREAM_SERVER_SERVER_STATS_H_

#include <atomic>
#include <cstdint>

namespace tripletstream {

// Server-wide counters, updated lock-free by reactors and producers and read
// by the periodic stats logger.
struct ServerStats {
  std::atomic<int64_t> batches_sent{0};
  std::atomic<int64_t> triplets_sent{0};  // Anchors in sent training batches.
  std::atomic<int64_t> window_batches_sent{0};
  std::atomic<int64_t> bytes_sent{0};     // Tensor payload bytes.
  std::atomic<int64_t> active_streams{0};
  std::atomic<int64_t> streams_started{0};
  std::atomic<int64_t> streams_failed{0};
  // Refused by --max_streams / --max_inflight_mb (also in streams_failed).
  std::atomic<int64_t> streams_refused_streams{0};
  std::atomic<int64_t> streams_refused_memory{0};
  std::atomic<int64_t> inflight_bytes_reserved{0};  // Batch buffers open streams may pin.
  std::atomic<int64_t> queued_batches{0};  // Built, waiting for the writer.
  std::atomic<int64_t> producers_busy{0};  // Producer threads building a batch now.
  std::atomic<int64_t> producer_threads{0};  // Producer threads alive.

  // Ingest, set once by the program before serving (0 until then).
  std::atomic<bool> serving{false};
  std::atomic<int64_t> files_loaded{0};
  std::atomic<int64_t> files_skipped{0};
  std::atomic<int64_t> rows_kept{0};
  std::atomic<int64_t> rows_skipped{0};
  std::atomic<int64_t> ingest_bytes{0};
  std::atomic<double> ingest_seconds{0};
};

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_SERVER_SERVER_STATS_H_
