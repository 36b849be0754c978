// tripletstream-probe: prints a server's dataset info, pulls batches from
// one or more servers, verifies digests and reports throughput and one
// digest of the whole stream (equal for any thread or server count).
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/digest.h"
#include "common/program_init.h"
#include "probe/stream_probe.h"

ABSL_FLAG(std::string, servers, "127.0.0.1:50051",
          "Comma separated server addresses (host:port or gRPC targets).");
ABSL_FLAG(int64_t, batches, 0, "Batches to pull; 0 = the rest of the epoch.");
ABSL_FLAG(int, batch_size, 64, "Triplets per batch (mode triplet).");
ABSL_FLAG(std::string, mode, "triplet", "triplet or pk.");
ABSL_FLAG(int, p, 16, "Users per batch (mode pk).");
ABSL_FLAG(int, k, 4, "Windows per user (mode pk).");
ABSL_FLAG(uint64_t, seed, 1, "Sampling seed.");
ABSL_FLAG(int64_t, epoch, 0, "First epoch.");
ABSL_FLAG(int64_t, epochs, 1,
          "Epochs to pull one after the other (with --batches=0); the digest "
          "chains them.");
ABSL_FLAG(int64_t, start, 0, "First batch index.");
ABSL_FLAG(bool, positive_other_session, false,
          "Draw positives from another session of the anchor's user.");
ABSL_FLAG(bool, info, true, "Print the dataset info first.");
ABSL_FLAG(double, timeout_s, 600, "Deadline of each call in seconds.");
ABSL_FLAG(double, read_delay_ms, 0,
          "Sleep this long after each batch (simulates a slow trainer).");

namespace tripletstream {
namespace {

void PrintInfo(const v1::GetDatasetInfoResponse& info) {
  std::printf("fingerprint %s, window %d stride %d, %d channels: %s\n",
              info.fingerprint().c_str(), info.window_length(), info.window_stride(),
              info.channel_names_size(), absl::StrJoin(info.channel_names(), ",").c_str());
  for (const v1::SplitInfo& split : info.splits()) {
    std::printf("  %-13s users %4lld sessions %5lld windows %8lld\n",
                v1::Split_Name(split.split()).c_str(),
                static_cast<long long>(split.users()),
                static_cast<long long>(split.sessions()),
                static_cast<long long>(split.windows()));
  }
  if (info.batches_per_epoch() > 0) {
    std::printf("  batches per epoch at batch size %d: %lld\n",
                info.batches_per_epoch_for_batch_size(),
                static_cast<long long>(info.batches_per_epoch()));
  }
}

int Run() {
  ProbeConfig config;
  config.servers = absl::StrSplit(absl::GetFlag(FLAGS_servers), ',', absl::SkipEmpty());
  if (config.servers.empty()) {
    std::cerr << "tripletstream-probe: --servers is empty\n";
    return 2;
  }
  config.batches = absl::GetFlag(FLAGS_batches);
  config.batch_size = absl::GetFlag(FLAGS_batch_size);
  config.p = absl::GetFlag(FLAGS_p);
  config.k = absl::GetFlag(FLAGS_k);
  config.seed = absl::GetFlag(FLAGS_seed);
  config.epoch = absl::GetFlag(FLAGS_epoch);
  config.start = absl::GetFlag(FLAGS_start);
  config.positive_other_session = absl::GetFlag(FLAGS_positive_other_session);
  config.timeout_s = absl::GetFlag(FLAGS_timeout_s);
  config.read_delay_ms = absl::GetFlag(FLAGS_read_delay_ms);
  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (mode == "triplet") {
    config.mode = v1::SAMPLING_MODE_TRIPLET;
  } else if (mode == "pk") {
    config.mode = v1::SAMPLING_MODE_PK;
  } else {
    std::cerr << "tripletstream-probe: --mode must be triplet or pk, got '" << mode
              << "'\n";
    return 2;
  }
  if (config.batches < 0 || config.start < 0) {
    std::cerr << "tripletstream-probe: --batches and --start must be >= 0\n";
    return 2;
  }
  if (absl::GetFlag(FLAGS_info)) {
    for (const std::string& server : config.servers) {
      auto info = FetchDatasetInfo(server, config.timeout_s);
      if (!info.ok()) {
        std::cerr << "tripletstream-probe: " << info.status().message() << "\n";
        return 1;
      }
      std::printf("server %s\n", server.c_str());
      PrintInfo(*info);
    }
  }
  const int64_t epochs = absl::GetFlag(FLAGS_epochs);
  if (epochs < 1 || (epochs > 1 && config.batches > 0)) {
    std::cerr << "tripletstream-probe: --epochs must be >= 1, and > 1 only with "
                 "--batches=0\n";
    return 2;
  }
  absl::StatusOr<ProbeResult> result;
  ProbeResult total;
  for (int64_t e = 0; e < epochs; ++e) {
    result = RunProbe(config);
    if (!result.ok()) {
      std::cerr << "tripletstream-probe: epoch " << config.epoch << ": " << result.status()
                << "\n";
      return 1;
    }
    total.batches += result->batches;
    total.triplets += result->triplets;
    total.payload_bytes += result->payload_bytes;
    total.seconds += result->seconds;
    total.stream_digest = epochs == 1 ? result->stream_digest
                                      : CombineDigest(total.stream_digest,
                                                      result->stream_digest);
    total.batches_per_server.resize(result->batches_per_server.size());
    for (size_t k = 0; k < result->batches_per_server.size(); ++k) {
      total.batches_per_server[k] += result->batches_per_server[k];
    }
    ++config.epoch;
  }
  result = total;
  std::printf(
      "batches=%lld triplets=%lld servers=%zu per_server=%s seconds=%.3f "
      "batches_per_s=%.1f triplets_per_s=%.0f mb_per_s=%.1f digest=%016llx\n",
      static_cast<long long>(result->batches), static_cast<long long>(result->triplets),
      config.servers.size(), absl::StrJoin(result->batches_per_server, "/").c_str(),
      result->seconds, result->seconds > 0 ? result->batches / result->seconds : 0.0,
      result->triplets_per_s(), result->mb_per_s(),
      static_cast<unsigned long long>(result->stream_digest));
  return 0;
}

}  // namespace
}  // namespace tripletstream

int main(int argc, char** argv) {
  tripletstream::InitProgram(argc, argv,
      "Pulls triplet batches from tripletstream servers and checks them.\n"
      "  tripletstream-probe --servers=HOST:PORT[,HOST:PORT...] --batches=N "
      "--batch_size=B [--mode=triplet|pk] [--seed --epoch --start]\n"
      "The last line is key=value pairs: batches= triplets_per_s= mb_per_s= digest=");
  return tripletstream::Run();
}
