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
#include "absl/strings/str_cat.h"
#include "client/dataset_client.h"
#include "client/server_list.h"
#include "common/program_init.h"
#include "probe/stream_probe.h"

ABSL_FLAG(std::string, servers, "127.0.0.1:50051",
          "Comma separated servers: host:port, dns:///NAME:PORT (every address "
          "of NAME, re-resolved each epoch), file:PATH (HOST:PORT lines) or ipv4:/ipv6: "
          "lists.");
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
ABSL_FLAG(double, timeout_s, 30, "Deadline of the dataset info call in seconds.");
ABSL_FLAG(double, resolve_interval_s, 0,
          "Re-resolve --servers every this many seconds within an epoch and re-split the "
          "rest of it over the addresses found; 0 = only at epoch boundaries.");
ABSL_FLAG(double, stall_timeout_s, 30,
          "Progress deadline: a server that sends no batch for this long is "
          "failed over like a dead one; 0 = wait forever.");
ABSL_FLAG(double, give_up_after_s, 60,
          "Fail when no server delivered a shard for this long.");
ABSL_FLAG(int, rank, 0, "Read the share of rank RANK of --world_size readers.");
ABSL_FLAG(int, world_size, 1, "Data-parallel readers sharing the stream.");
ABSL_FLAG(int, prefetch, 4, "Batches buffered per server shard.");
ABSL_FLAG(bool, verify, true,
          "Recompute every batch digest (index, shape and exactly-once checks "
          "always run).");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM CA the servers' certificates chain to: connect over TLS. Default: plaintext.");
ABSL_FLAG(std::string, tls_cert, "", "PEM client certificate for mutual TLS (with --tls_key).");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert.");
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

int Fail(int code, const std::string& message) {
  std::cerr << "tripletstream-probe: " << message << "\n";
  return code;
}

int Run() {
  ProbeConfig config;
  BatchStreamOptions& o = config.stream;
  o.servers = SplitServerList(absl::GetFlag(FLAGS_servers));
  if (o.servers.empty()) return Fail(2, "--servers is empty");
  const int64_t batches = absl::GetFlag(FLAGS_batches);
  o.start_epoch = absl::GetFlag(FLAGS_epoch);
  o.start_index = absl::GetFlag(FLAGS_start);
  o.epochs = absl::GetFlag(FLAGS_epochs);
  o.rank = absl::GetFlag(FLAGS_rank);
  o.world_size = absl::GetFlag(FLAGS_world_size);
  o.prefetch_per_shard = absl::GetFlag(FLAGS_prefetch);
  o.resolve_interval_s = absl::GetFlag(FLAGS_resolve_interval_s);
  o.client.rpc_timeout_s = absl::GetFlag(FLAGS_timeout_s);
  o.client.stall_timeout_s = absl::GetFlag(FLAGS_stall_timeout_s);
  o.client.give_up_after_s = absl::GetFlag(FLAGS_give_up_after_s);
  o.client.verify_digests = absl::GetFlag(FLAGS_verify);
  config.read_delay_ms = absl::GetFlag(FLAGS_read_delay_ms);
  o.client.channel.tls = {absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key),
                          absl::GetFlag(FLAGS_tls_ca)};
  if (absl::Status s = ValidateTlsFiles(o.client.channel.tls, "--tls_"); !s.ok()) {
    return Fail(2, std::string(s.message()));
  }
  v1::StreamTripletsRequest& request = o.request;
  request.set_batch_size(absl::GetFlag(FLAGS_batch_size));
  request.set_p(absl::GetFlag(FLAGS_p));
  request.set_k(absl::GetFlag(FLAGS_k));
  request.set_seed(absl::GetFlag(FLAGS_seed));
  request.set_positive_other_session(absl::GetFlag(FLAGS_positive_other_session));
  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (mode == "triplet") {
    request.set_mode(v1::SAMPLING_MODE_TRIPLET);
  } else if (mode == "pk") {
    request.set_mode(v1::SAMPLING_MODE_PK);
  } else {
    return Fail(2, "--mode must be triplet or pk, got '" + mode + "'");
  }
  if (batches < 0 || o.start_index < 0 || o.start_epoch < 0) {
    return Fail(2, "--batches, --start and --epoch must be >= 0");
  }
  if (o.epochs < 1 || (o.epochs > 1 && batches > 0)) {
    return Fail(2, "--epochs must be >= 1, and > 1 only with --batches=0");
  }
  if (o.world_size < 1 || o.rank < 0 || o.rank >= o.world_size) {
    return Fail(2, "--rank must be in [0, --world_size) and --world_size >= 1");
  }
  if (o.prefetch_per_shard < 1) return Fail(2, "--prefetch must be >= 1");
  if (!(o.client.rpc_timeout_s > 0) || !(o.client.stall_timeout_s >= 0) ||
      !(o.client.give_up_after_s >= 0) || !(config.read_delay_ms >= 0) ||
      !(o.resolve_interval_s >= 0)) {
    return Fail(2, "--timeout_s must be > 0; --stall_timeout_s, --give_up_after_s, "
                   "--resolve_interval_s and --read_delay_ms >= 0");
  }
  if (batches > 0) o.end_index = o.start_index + batches;
  if (absl::GetFlag(FLAGS_info)) {
    auto addresses = ExpandServers(o.servers);
    if (!addresses.ok()) return Fail(1, std::string(addresses.status().message()));
    for (const std::string& server : *addresses) {
      auto info = FetchDatasetInfo({server}, o.client);
      if (!info.ok()) return Fail(1, std::string(info.status().message()));
      std::printf("server %s\n", server.c_str());
      PrintInfo(*info);
    }
  }
  absl::StatusOr<ProbeResult> result = RunProbe(config);
  if (!result.ok()) {
    return Fail(1, absl::StrCat("epoch ", o.start_epoch, ": ", result.status().ToString()));
  }
  const BatchStreamStats& stats = result->stats;
  std::printf(
      "batches=%lld triplets=%lld servers=%zu per_server=%s reconnects=%lld stalls=%lld "
      "seconds=%.3f batches_per_s=%.1f triplets_per_s=%.0f mb_per_s=%.1f digest=%016llx\n",
      static_cast<long long>(result->batches), static_cast<long long>(result->triplets),
      stats.servers.size(), absl::StrJoin(stats.batches_per_server, "/").c_str(),
      static_cast<long long>(stats.reconnects), static_cast<long long>(stats.stalls),
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
      "Reads through the same client library as the trainer (failover, "
      "progress deadline, exactly-once checks).\n"
      "The last line is key=value pairs: batches= triplets_per_s= mb_per_s= digest=");
  return tripletstream::Run();
}
