#include "server/server_metrics.h"

#include <atomic>
#include <memory>

#include "metrics/rate_meter.h"
#include "server/wire_blocks.h"

namespace tripletstream {
namespace {

template <typename T>
std::function<double()> Read(const std::atomic<T>* value) {
  return [value] { return static_cast<double>(value->load(std::memory_order_relaxed)); };
}

}  // namespace

absl::Status RegisterServerMetrics(const ServerStats* stats, MetricsRegistry* registry) {
  auto triplet_rate = std::make_shared<RateMeter>();
  return registry->AddValues({
      {"tripletstream_server_serving", "1 when serving batches, 0 while loading or draining.",
       MetricType::kGauge, [stats] { return stats->serving.load() ? 1.0 : 0.0; }},
      {"tripletstream_server_batches_sent_total", "Training batches written to clients.",
       MetricType::kCounter, Read(&stats->batches_sent)},
      {"tripletstream_server_window_batches_sent_total",
       "Evaluation window batches written to clients.", MetricType::kCounter,
       Read(&stats->window_batches_sent)},
      {"tripletstream_server_triplets_sent_total",
       "Anchors (triplets or P*K windows) in training batches written.", MetricType::kCounter,
       Read(&stats->triplets_sent)},
      {"tripletstream_server_triplets_per_second",
       "Anchors sent per second, measured between scrapes at least 1 s apart.",
       MetricType::kGauge,
       [stats, triplet_rate] { return triplet_rate->Rate(stats->triplets_sent.load()); }},
      {"tripletstream_server_bytes_sent_total", "Tensor payload bytes written to clients.",
       MetricType::kCounter, Read(&stats->bytes_sent)},
      {"tripletstream_server_queued_batches",
       "Batches built and waiting for their stream's writer (all streams).",
       MetricType::kGauge, Read(&stats->queued_batches)},
      {"tripletstream_server_producer_threads", "Producer threads alive (all streams).",
       MetricType::kGauge, Read(&stats->producer_threads)},
      {"tripletstream_server_producers_busy", "Producer threads building a batch right now.",
       MetricType::kGauge, Read(&stats->producers_busy)},
      {"tripletstream_server_clients_connected", "Streams open now.", MetricType::kGauge,
       Read(&stats->active_streams)},
      {"tripletstream_server_streams_started_total", "Streams opened.", MetricType::kCounter,
       Read(&stats->streams_started)},
      {"tripletstream_server_streams_rejected_total",
       "Streams refused (invalid request, still loading, a limit).", MetricType::kCounter,
       Read(&stats->streams_failed)},
      {"tripletstream_server_streams_refused_max_streams_total",
       "Streams refused because --max_streams were open.", MetricType::kCounter,
       Read(&stats->streams_refused_streams)},
      {"tripletstream_server_streams_refused_memory_total",
       "Streams refused because their buffers would pass --max_inflight_mb.",
       MetricType::kCounter, Read(&stats->streams_refused_memory)},
      {"tripletstream_server_inflight_bytes_reserved",
       "Bytes of batch buffers the open streams may pin (counted against --max_inflight_mb).",
       MetricType::kGauge, Read(&stats->inflight_bytes_reserved)},
      {"tripletstream_server_wire_bytes_out",
       "Bytes of encoded training batches held by producers or by gRPC until sent.",
       MetricType::kGauge,
       [] { return static_cast<double>(WireBlocks::Default().bytes_out()); }},
      {"tripletstream_server_wire_bytes_kept",
       "Bytes of free wire blocks kept for reuse (at most 256 MiB).", MetricType::kGauge,
       [] { return static_cast<double>(WireBlocks::Default().bytes_kept()); }},
      {"tripletstream_server_ingest_files", "CSV files loaded at startup.", MetricType::kGauge,
       Read(&stats->files_loaded)},
      {"tripletstream_server_ingest_files_skipped", "CSV files skipped (unreadable, empty).",
       MetricType::kGauge, Read(&stats->files_skipped)},
      {"tripletstream_server_ingest_rows", "CSV rows kept at startup.", MetricType::kGauge,
       Read(&stats->rows_kept)},
      {"tripletstream_server_rows_skipped", "Malformed CSV rows skipped at startup.",
       MetricType::kGauge, Read(&stats->rows_skipped)},
      {"tripletstream_server_ingest_bytes", "CSV bytes read at startup.", MetricType::kGauge,
       Read(&stats->ingest_bytes)},
      {"tripletstream_server_ingest_seconds", "Seconds the startup ingest took.",
       MetricType::kGauge, Read(&stats->ingest_seconds)},
  });
}

}  // namespace tripletstream
