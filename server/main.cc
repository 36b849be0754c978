// tripletstream-server: loads per-user sensor CSVs, prepares windows and
// streams deterministic triplet batches over gRPC.
#include <glog/logging.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/derived_channels.h"
#include "common/dataset_loader.h"
#include "common/prepared_dataset.h"
#include "common/program_init.h"
#include "common/tls_files.h"
#include "metrics/metrics_http_server.h"
#include "metrics/metrics_registry.h"
#include "server/data_server.h"
#include "server/dataset_startup.h"
#include "server/server_metrics.h"
#include "server/sampling_config.h"

ABSL_FLAG(std::string, data, "", "Root folder of the CSV files (required).");
ABSL_FLAG(std::string, host, "0.0.0.0", "Address to listen on.");
ABSL_FLAG(int, port, 50051, "Port to listen on; 0 picks a free port (logged).");
ABSL_FLAG(int, threads, 1, "Producer threads per stream (batch building).");
ABSL_FLAG(int, ingest_threads, 0,
          "Threads parsing CSV files at startup; 0 = hardware concurrency.");
ABSL_FLAG(int, buffers_per_thread, 2,
          "Reusable batch buffers per producer thread: bounds memory per stream.");
ABSL_FLAG(int, window, 128, "Window length in samples.");
ABSL_FLAG(int, stride, 64, "Samples between consecutive window starts.");
ABSL_FLAG(std::string, columns, "",
          "Value columns, comma separated names or #positions (0-based); empty = "
          "every numeric column except user/session columns and unnamed columns.");
ABSL_FLAG(std::string, delimiter, "auto", "auto, comma, semicolon, tab or space.");
ABSL_FLAG(std::string, row_terminator, "auto",
          "auto, none or semicolon: a ';' that may end each row after its last field, as "
          "in WISDM (\"x,y,z;\"). auto: when the delimiter is not ';' and the first line, "
          "or the first data line after a header, ends with one.");
ABSL_FLAG(std::string, header, "auto", "auto, yes or no: whether files start with a header.");
ABSL_FLAG(std::string, user_regex, "",
          "RE2 matched against each file's path relative to --data, with named groups "
          "(?P<user>...) and optionally (?P<session>...). Empty: the first folder is "
          "the user (unless --user_column).");
ABSL_FLAG(std::string, user_column, "", "Column holding each row's user (name or #pos).");
ABSL_FLAG(std::string, session_column, "", "Column holding each row's session.");
ABSL_FLAG(std::string, file_suffix, ".csv", "Only files ending with this are read.");
ABSL_FLAG(uint64_t, seed, 1, "Seed of the user split.");
ABSL_FLAG(std::string, split, "0.7,0.1,0.2", "Train,val,test user fractions.");
ABSL_FLAG(bool, magnitudes, false,
          "Add the magnitude |v| of every sensor triad (channels ending in x/y/z after '.' or "
          "'_', e.g. rotationRate.x/.y/.z) as a channel named |prefix|: orientation-invariant "
          "input.");
ABSL_FLAG(std::string, magnitude_sums, "",
          "';'-separated triad sums whose magnitude becomes a channel, e.g. "
          "'userAcceleration+gravity' (total acceleration) -> |userAcceleration+gravity|.");
ABSL_FLAG(std::string, gravity_frame, "off",
          "auto, on or off: replace every sensor triad's x/y/z channels by its component along "
          "the vertical and its magnitude across it, named vertical(v;g,N) and horizontal(v;g,N) "
          "(g: the triad that carries gravity, averaged over N = --window rows), so a device "
          "worn another way gives the same inputs. auto: when a triad carries gravity, else "
          "channels as they are (logged); on: an error when none does.");
ABSL_FLAG(std::string, gravity_triad, "",
          "The triad (prefix of its x/y/z channels) whose mean is the vertical for "
          "--gravity_frame; empty = the one whose values are most steady (picked and logged).");
ABSL_FLAG(bool, keep_axes, true,
          "Keep the raw x/y/z channels of the triads --magnitudes/--magnitude_sums use.");
ABSL_FLAG(std::string, test_users, "",
          "RE2 full match on user names forced into the test split (open-set). "
          "When this or --val_users is set, other users train.");
ABSL_FLAG(std::string, val_users, "", "RE2 full match on user names forced into val.");
ABSL_FLAG(std::string, holdout_sessions, "",
          "RE2 full match on session names held out of training (cross-session); "
          "served as SPLIT_HOLDOUT.");
ABSL_FLAG(bool, strict, false, "Fail on the first malformed row or unreadable file.");
ABSL_FLAG(std::string, skip_report, "", "Write every skipped row/file to this file.");
ABSL_FLAG(float, jitter, 0.0f, "Augmentation: Gaussian jitter sigma (0 = off).");
ABSL_FLAG(float, scale, 0.0f, "Augmentation: per-channel amplitude scale sigma (0 = off).");
ABSL_FLAG(int, shift, 0, "Augmentation: max time shift in samples (0 = off).");
ABSL_FLAG(bool, rotate, true,
          "Augmentation: turn each training window by a random rotation of up to "
          "--rotate_max_deg, every sensor triad (x/y/z channels) alike, as if the device were "
          "worn a little differently. On by default (data without triads is served unturned, "
          "logged); --rotate=false turns it off.");
ABSL_FLAG(float, rotate_max_deg, 30.0f,
          "With --rotate: the largest turn in degrees, about a random axis; 180 = any "
          "rotation (uniform).");
ABSL_FLAG(float, time_warp, 0.0f,
          "Augmentation: read each training window at a speed drifting linearly between two "
          "random rates in [1-w, 1+w] (w <= 0.5), resampled to the window length; 0 = off.");
ABSL_FLAG(std::string, cache_dir, "",
          "Keep the prepared dataset here (one file per set of input files and flags) and "
          "memory-map it on later starts: no CSV parsing, one copy in the page cache for "
          "every server on the node. Stale or damaged caches are rebuilt. Empty: off.");
ABSL_FLAG(int, max_batch_size, 4096, "Largest batch (B, P*K or windows) a client may ask.");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain: serve gRPC over TLS (with --tls_key). Files are re-read "
          "every 5 s, so a rotated certificate needs no restart. Default: plaintext.");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert.");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA bundle: require client certificates that chain to it (mutual TLS).");
ABSL_FLAG(int, max_streams, 64,
          "Streams open at once; more get RESOURCE_EXHAUSTED (clients fail over). 0 = no "
          "limit.");
ABSL_FLAG(int64_t, max_inflight_mb, 2048,
          "Memory the batch buffers of all open streams may pin (threads x "
          "buffers_per_thread x batch size each); a stream that would pass it gets "
          "RESOURCE_EXHAUSTED. 0 = no limit.");
ABSL_FLAG(double, stats_interval_s, 10.0, "Seconds between stats log lines; 0 = none.");
ABSL_FLAG(bool, dry_run, false,
          "Load and prepare the data, log the summary, and exit without serving.");
ABSL_FLAG(int, metrics_port, 0,
          "Port of the Prometheus endpoint (GET /metrics, on --host); 0 = off, -1 = pick a "
          "free port (logged).");
ABSL_FLAG(double, drain_delay_s, 0.0,
          "On SIGTERM/SIGINT, seconds to report NOT_SERVING while still serving (so load "
          "balancers and Kubernetes stop routing here) before the shutdown grace starts.");
ABSL_FLAG(double, shutdown_grace_s, 5.0,
          "On SIGTERM/SIGINT, seconds in-flight streams get to finish.");

namespace tripletstream {
namespace {

absl::Status BuildLoaderConfig(LoaderConfig* config) {
  config->root = absl::GetFlag(FLAGS_data);
  if (config->root.empty()) {
    return absl::InvalidArgumentError("--data is required (root folder of the CSV files)");
  }
  auto delimiter = ParseDelimiter(absl::GetFlag(FLAGS_delimiter));
  if (!delimiter.ok()) return delimiter.status();
  config->csv.delimiter = *delimiter;
  auto row_terminator = ParseRowTerminator(absl::GetFlag(FLAGS_row_terminator));
  if (!row_terminator.ok()) return row_terminator.status();
  config->csv.row_terminator = *row_terminator;
  auto header = ParseHeaderMode(absl::GetFlag(FLAGS_header));
  if (!header.ok()) return header.status();
  config->csv.header = *header;
  auto columns = ParseColumnList(absl::GetFlag(FLAGS_columns));
  if (!columns.ok()) return columns.status();
  config->csv.columns = *std::move(columns);
  if (!absl::GetFlag(FLAGS_user_column).empty()) {
    auto ref = ParseColumnRef(absl::GetFlag(FLAGS_user_column));
    if (!ref.ok()) return ref.status();
    config->csv.user_column = *ref;
  }
  if (!absl::GetFlag(FLAGS_session_column).empty()) {
    auto ref = ParseColumnRef(absl::GetFlag(FLAGS_session_column));
    if (!ref.ok()) return ref.status();
    config->csv.session_column = *ref;
  }
  config->path_regex = absl::GetFlag(FLAGS_user_regex);
  config->file_suffix = absl::GetFlag(FLAGS_file_suffix);
  int threads = absl::GetFlag(FLAGS_ingest_threads);
  if (threads < 0) return absl::InvalidArgumentError("--ingest_threads must be >= 0");
  config->threads = threads > 0 ? threads
                                : std::max(1u, std::thread::hardware_concurrency());
  config->strict = absl::GetFlag(FLAGS_strict);
  return absl::OkStatus();
}

absl::Status BuildServiceConfig(DataServiceConfig* config) {
  // gRPC would take --port=99999 as 99999 mod 65536.
  if (absl::GetFlag(FLAGS_port) < 0 || absl::GetFlag(FLAGS_port) > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--port must be in [0, 65535], got ", absl::GetFlag(FLAGS_port)));
  }
  if (absl::GetFlag(FLAGS_metrics_port) < -1 || absl::GetFlag(FLAGS_metrics_port) > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--metrics_port must be -1, 0 or a port up to 65535, got ",
        absl::GetFlag(FLAGS_metrics_port)));
  }
  config->producer_threads = absl::GetFlag(FLAGS_threads);
  if (config->producer_threads < 1 || config->producer_threads > 256) {
    return absl::InvalidArgumentError("--threads must be in [1, 256]");
  }
  config->buffers_per_thread = absl::GetFlag(FLAGS_buffers_per_thread);
  if (config->buffers_per_thread < 1 || config->buffers_per_thread > 64) {
    return absl::InvalidArgumentError("--buffers_per_thread must be in [1, 64]");
  }
  config->limits.max_streams = absl::GetFlag(FLAGS_max_streams);
  config->limits.max_inflight_bytes = absl::GetFlag(FLAGS_max_inflight_mb) << 20;
  if (config->limits.max_streams < 0 || absl::GetFlag(FLAGS_max_inflight_mb) < 0 ||
      absl::GetFlag(FLAGS_max_inflight_mb) > (int64_t{1} << 40)) {
    return absl::InvalidArgumentError(
        "--max_streams and --max_inflight_mb must be >= 0 (0 = no limit)");
  }
  config->max_batch_size = absl::GetFlag(FLAGS_max_batch_size);
  if (config->max_batch_size < 1) {
    return absl::InvalidArgumentError("--max_batch_size must be >= 1");
  }
  config->augment.jitter_sigma = absl::GetFlag(FLAGS_jitter);
  config->augment.scale_sigma = absl::GetFlag(FLAGS_scale);
  config->augment.max_shift = absl::GetFlag(FLAGS_shift);
  config->augment.rotate = absl::GetFlag(FLAGS_rotate);
  config->augment.time_warp = absl::GetFlag(FLAGS_time_warp);
  config->augment.rotate_max_deg = absl::GetFlag(FLAGS_rotate_max_deg);
  if (!(config->augment.rotate_max_deg > 0 && config->augment.rotate_max_deg <= 180)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--rotate_max_deg must be in (0, 180], got ", config->augment.rotate_max_deg));
  }
  if (!(config->augment.jitter_sigma >= 0) || !(config->augment.scale_sigma >= 0) ||
      config->augment.max_shift < 0) {
    return absl::InvalidArgumentError("--jitter, --scale and --shift must be >= 0");
  }
  if (!(config->augment.time_warp >= 0 && config->augment.time_warp <= 0.5f)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--time_warp must be in [0, 0.5], got ", config->augment.time_warp));
  }
  return absl::OkStatus();
}

void RecordIngest(const LoadStats& s, ServerStats* stats) {
  stats->files_loaded.store(s.files_loaded);
  stats->files_skipped.store(s.files_skipped);
  stats->rows_kept.store(s.rows_kept);
  stats->rows_skipped.store(s.rows_skipped);
  stats->ingest_bytes.store(s.bytes);
  stats->ingest_seconds.store(s.seconds);
}

absl::Status StartMetrics(const ServerStats& stats, MetricsRegistry* registry,
                          std::unique_ptr<MetricsHttpServer>* out) {
  if (absl::GetFlag(FLAGS_metrics_port) == 0) return absl::OkStatus();
  if (absl::Status s = RegisterServerMetrics(&stats, registry); !s.ok()) return s;
  // /readyz follows the gRPC health status: 503 while loading or draining.
  auto server = StartMetricsEndpoint(absl::GetFlag(FLAGS_host),
                                     absl::GetFlag(FLAGS_metrics_port), registry,
                                     "--metrics_port", [&stats] { return stats.serving.load(); });
  if (!server.ok()) return server.status();
  *out = *std::move(server);
  return absl::OkStatus();
}

// Every flag copied into the configs; INVALID_ARGUMENT names a bad one.
absl::Status BuildConfigs(LoaderConfig* loader, DataServiceConfig* service,
                          PreprocessConfig* prep, TlsFiles* tls) {
  if (absl::Status s = BuildLoaderConfig(loader); !s.ok()) return s;
  if (absl::Status s = BuildServiceConfig(service); !s.ok()) return s;
  if (absl::Status s = ParseSplitFractions(absl::GetFlag(FLAGS_split), &prep->split); !s.ok()) {
    return s;
  }
  *tls = {absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key),
          absl::GetFlag(FLAGS_tls_client_ca)};
  if (absl::Status s = ValidateTlsFiles(*tls, "--tls_"); !s.ok()) return s;
  if (tls->enabled() && tls->cert.empty()) {
    return absl::InvalidArgumentError("--tls_client_ca needs --tls_cert and --tls_key");
  }
  prep->derived.magnitudes = absl::GetFlag(FLAGS_magnitudes);
  prep->derived.sums = absl::StrSplit(absl::GetFlag(FLAGS_magnitude_sums), ';', absl::SkipEmpty());
  prep->derived.keep_axes = absl::GetFlag(FLAGS_keep_axes);
  const std::string gravity_frame = absl::GetFlag(FLAGS_gravity_frame);
  if (gravity_frame == "auto") {
    prep->derived.gravity_frame = GravityFrameMode::kAuto;
  } else if (gravity_frame == "on") {
    prep->derived.gravity_frame = GravityFrameMode::kOn;
  } else if (gravity_frame == "off") {
    prep->derived.gravity_frame = GravityFrameMode::kOff;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--gravity_frame must be auto, on or off, got '", gravity_frame, "'"));
  }
  prep->derived.gravity_triad = absl::GetFlag(FLAGS_gravity_triad);
  if (!prep->derived.gravity_triad.empty() &&
      prep->derived.gravity_frame == GravityFrameMode::kOff) {
    return absl::InvalidArgumentError("--gravity_triad needs --gravity_frame=auto or on");
  }
  prep->derived.gravity_span = absl::GetFlag(FLAGS_window);
  if (!prep->derived.keep_axes && !prep->derived.enabled()) {
    return absl::InvalidArgumentError(
        "--keep_axes=false needs --magnitudes or --magnitude_sums (it drops their axes)");
  }
  prep->window_length = absl::GetFlag(FLAGS_window);
  prep->window_stride = absl::GetFlag(FLAGS_stride);
  prep->split.seed = absl::GetFlag(FLAGS_seed);
  prep->split.test_user_regex = absl::GetFlag(FLAGS_test_users);
  prep->split.val_user_regex = absl::GetFlag(FLAGS_val_users);
  prep->split.holdout_session_regex = absl::GetFlag(FLAGS_holdout_sessions);
  return absl::OkStatus();
}

// Listens before loading, so health checks see NOT_SERVING (not a refused
// connection) during ingest. INVALID_ARGUMENT for unusable TLS files.
absl::StatusOr<std::unique_ptr<DataServer>> ListenBeforeLoading(
    const DataServiceConfig& config, const TlsFiles& tls) {
  auto credentials = MakeServerCredentials(tls);
  if (!credentials.ok()) return credentials.status();
  const std::string address =
      absl::StrCat(absl::GetFlag(FLAGS_host), ":", absl::GetFlag(FLAGS_port));
  auto server = DataServer::Listen(config, address, *credentials);
  if (!server.ok()) return server.status();
  LOG(INFO) << "listening on " << absl::GetFlag(FLAGS_host) << ":" << (*server)->port()
            << (tls.enabled() ? tls.ca.empty() ? " with TLS" : " with mutual TLS"
                              : " (plaintext)")
            << " (NOT_SERVING until the dataset is loaded)";
  return server;
}

// Blocks until SIGTERM/SIGINT (blocked in every thread, see main), logging
// the stats line every --stats_interval_s.
void WaitForShutdownSignal(const ServerStats& stats) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  const double interval = absl::GetFlag(FLAGS_stats_interval_s);
  int64_t last_batches = 0, last_triplets = 0, last_bytes = 0;
  absl::Time last = absl::Now();
  for (;;) {
    timespec timeout{};
    const double wait = interval > 0 ? interval : 3600.0;
    timeout.tv_sec = static_cast<time_t>(wait);
    timeout.tv_nsec = static_cast<long>((wait - timeout.tv_sec) * 1e9);
    int sig = sigtimedwait(&signals, nullptr, &timeout);
    if (sig == SIGTERM || sig == SIGINT) {
      LOG(INFO) << "received " << (sig == SIGTERM ? "SIGTERM" : "SIGINT")
                << ", draining (grace " << absl::GetFlag(FLAGS_shutdown_grace_s) << " s)";
      return;
    }
    if (interval <= 0) continue;
    const absl::Time now = absl::Now();
    const double dt = absl::ToDoubleSeconds(now - last);
    const int64_t batches = stats.batches_sent.load();
    const int64_t triplets = stats.triplets_sent.load();
    const int64_t bytes = stats.bytes_sent.load();
    LOG(INFO) << absl::StrFormat(
        "stats: %.1f batches/s %.0f triplets/s %.1f MB/s, queued %d, streams %d "
        "active %d total, %d batches sent",
        (batches - last_batches) / dt, (triplets - last_triplets) / dt,
        (bytes - last_bytes) / 1e6 / dt, stats.queued_batches.load(),
        stats.active_streams.load(), stats.streams_started.load(), batches);
    last_batches = batches;
    last_triplets = triplets;
    last_bytes = bytes;
    last = now;
  }
}

// NOT_SERVING for --drain_delay_s, then the grace shutdown.
void DrainAndStop(DataServer* server) {
  if (absl::GetFlag(FLAGS_drain_delay_s) > 0) {
    server->Drain();
    LOG(INFO) << "NOT_SERVING; new streams still accepted for "
              << absl::GetFlag(FLAGS_drain_delay_s) << " s";
    absl::SleepFor(absl::Seconds(absl::GetFlag(FLAGS_drain_delay_s)));
  }
  server->Shutdown(absl::Seconds(absl::GetFlag(FLAGS_shutdown_grace_s)));
  LOG(INFO) << "stopped after " << server->stats().batches_sent.load() << " batches, "
            << server->stats().window_batches_sent.load() << " window batches";
}

int Run() {
  LoaderConfig loader_config;
  DataServiceConfig service_config;
  PreprocessConfig prep;
  TlsFiles tls;
  if (absl::Status s = BuildConfigs(&loader_config, &service_config, &prep, &tls); !s.ok()) {
    std::cerr << "tripletstream-server: " << s.message() << "\n"
              << "Try --help.\n";
    return 2;
  }
  std::error_code error;
  if (!std::filesystem::exists(loader_config.root, error)) {
    LOG(ERROR) << "cannot load " << loader_config.root << ": no such file or directory";
    return 1;
  }
  std::unique_ptr<DataServer> server;
  std::unique_ptr<MetricsHttpServer> metrics_server;
  MetricsRegistry registry;
  if (!absl::GetFlag(FLAGS_dry_run)) {
    auto listening = ListenBeforeLoading(service_config, tls);
    if (!listening.ok()) {
      LOG(ERROR) << listening.status();
      return absl::IsInvalidArgument(listening.status()) ? 2 : 1;
    }
    server = *std::move(listening);
    // Metrics are scrapable from the start.
    if (absl::Status s = StartMetrics(server->stats(), &registry, &metrics_server); !s.ok()) {
      LOG(ERROR) << s;
      return 1;
    }
  }
  LoadStats load_stats;
  auto dataset = LoadAndPrepare(loader_config, prep, absl::GetFlag(FLAGS_cache_dir),
                                absl::GetFlag(FLAGS_skip_report), &load_stats);
  if (!dataset.ok()) {
    LOG(ERROR) << dataset.status().message();
    return 1;
  }
  if (service_config.augment.rotate) {
    const std::vector<Triad> triads = FindTriads((*dataset)->data.channel_names);
    if (triads.empty()) {
      // Rotation is on by default, so data without triads is not an error.
      LOG(WARNING) << "rotation augmentation: no sensor triads (x/y/z channels) among the "
                   << "channels " << absl::StrJoin((*dataset)->data.channel_names, ",")
                   << ", so windows are not turned";
    } else {
      std::vector<std::string> names;
      for (const Triad& t : triads) names.push_back(t.prefix);
      LOG(INFO) << "rotation augmentation: each training window turns "
                << absl::StrJoin(names, ", ") << " by one random rotation"
                << (service_config.augment.rotate_max_deg < 180
                        ? absl::StrCat(" of up to ", service_config.augment.rotate_max_deg,
                                       " degrees")
                        : std::string())
                << " (--rotate=false: off)";
    }
  }
  if (absl::GetFlag(FLAGS_dry_run)) {
    LOG(INFO) << "--dry_run: not serving";
    return 0;
  }
  RecordIngest(load_stats, &server->stats());
  server->Serve(*std::move(dataset));
  LOG(INFO) << "serving on " << absl::GetFlag(FLAGS_host) << ":" << server->port()
            << " (producer threads per stream " << service_config.producer_threads
            << (service_config.augment.enabled() ? ", augmentation on" : "") << ")";
  WaitForShutdownSignal(server->stats());
  DrainAndStop(server.get());
  return 0;
}

}  // namespace
}  // namespace tripletstream

int main(int argc, char** argv) {
  tripletstream::InitProgram(argc, argv,
      "Streams deterministic triplet batches of sensor windows over gRPC.\n"
      "  tripletstream-server --data=DIR [--port=50051] [--threads=1] ...\n"
      "Logging is glog's: set GLOG_v, GLOG_logtostderr, GLOG_log_dir in the "
      "environment.");
  // Block the shutdown signals before any thread starts so only the main
  // thread's sigtimedwait receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return tripletstream::Run();
}
