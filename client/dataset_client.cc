#include "client/dataset_client.h"

#include <glog/logging.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/stall_watchdog.h"
#include "common/digest.h"
#include "common/wire.h"
#include "tripletstream/v1/tripletstream.grpc.pb.h"

namespace tripletstream {
namespace {

// Tries `attempt` on each server in turn until one succeeds or fails
// permanently; UNAVAILABLE with every error when all fail transiently.
template <typename T, typename Attempt>
absl::StatusOr<T> FirstThatAnswers(const std::vector<std::string>& servers,
                                   const std::string& what, Attempt attempt) {
  if (servers.empty()) return absl::InvalidArgumentError("no servers given");
  std::vector<std::string> errors;
  for (const std::string& server : servers) {
    absl::StatusOr<T> result = attempt(server);
    if (result.ok() || !IsTransient(result.status().code())) return result;
    LOG(WARNING) << what << ": " << result.status();
    errors.push_back(std::string(result.status().message()));
  }
  return absl::UnavailableError(
      absl::StrCat(what, ": no server answered: ", absl::StrJoin(errors, "; ")));
}

absl::StatusOr<WindowSet> FetchWindowsFrom(const std::string& server, v1::Split split,
                                           const std::string& fingerprint,
                                           const ClientOptions& options, CallSlot* slot) {
  auto stub = v1::TripletStream::NewStub(MakeChannel(server, options.channel));
  grpc::ClientContext context;
  v1::StreamWindowsRequest request;
  request.set_split(split);
  request.set_batch_size(256);
  request.set_expected_fingerprint(fingerprint);
  if (!slot->Attach(&context)) return absl::CancelledError("cancelled");
  // Opening the call blocks until it is sent: on a frozen server, forever.
  slot->BeginWait();
  auto reader = stub->StreamWindows(&context, request);
  WindowSet set;
  v1::WindowBatch batch;
  absl::Status bad;
  for (;;) {
    slot->BeginWait();
    const bool more = reader->Read(&batch);
    slot->EndWait();
    if (!more) break;
    bad = CheckWindowBatch(batch, set.size(), options.verify_digests);
    if (!bad.ok()) {
      context.TryCancel();
      break;
    }
    set.length = batch.shape(1);
    set.channels = batch.shape(2);
    const float* data = reinterpret_cast<const float*>(batch.data().data());
    set.values.insert(set.values.end(), data, data + batch.data().size() / sizeof(float));
    set.users.insert(set.users.end(), batch.user_labels().begin(), batch.user_labels().end());
    set.sessions.insert(set.sessions.end(), batch.session_labels().begin(),
                        batch.session_labels().end());
  }
  const grpc::Status status = reader->Finish();
  slot->Detach();
  if (!bad.ok()) return absl::DataLossError(absl::StrCat(server, ": ", bad.message()));
  if (slot->TakeStalled()) {
    return absl::UnavailableError(absl::StrCat(server, ": StreamWindows sent nothing for ",
                                               options.stall_timeout_s,
                                               " s (stall timeout)"));
  }
  if (!status.ok()) return FromGrpcStatus(status, absl::StrCat(server, ": StreamWindows"));
  return set;
}

}  // namespace

absl::StatusOr<v1::GetDatasetInfoResponse> FetchDatasetInfo(
    const std::vector<std::string>& servers, const ClientOptions& options) {
  return FirstThatAnswers<v1::GetDatasetInfoResponse>(
      servers, "dataset info",
      [&](const std::string& server) -> absl::StatusOr<v1::GetDatasetInfoResponse> {
        auto stub = v1::TripletStream::NewStub(MakeChannel(server, options.channel));
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() +
                             std::chrono::milliseconds(
                                 static_cast<int64_t>(options.rpc_timeout_s * 1000)));
        v1::GetDatasetInfoResponse response;
        const grpc::Status status =
            stub->GetDatasetInfo(&context, v1::GetDatasetInfoRequest(), &response);
        if (!status.ok()) return FromGrpcStatus(status, server);
        if (response.payload_digest() != kPayloadDigestName) {
          return absl::FailedPreconditionError(absl::StrCat(
              server, " digests batches with ",
              response.payload_digest().empty() ? std::string("the pre-2026-11-30 hash")
                                                : "\"" + response.payload_digest() + "\"",
              " and this client checks \"", kPayloadDigestName,
              "\": run the same tripletstream version on both sides"));
        }
        return response;
      });
}

absl::StatusOr<WindowSet> FetchWindows(const std::vector<std::string>& servers,
                                       v1::Split split, const std::string& fingerprint,
                                       const ClientOptions& options) {
  StallWatchdog watchdog(absl::Seconds(options.stall_timeout_s));
  std::unique_ptr<CallSlot> slot = watchdog.NewSlot();
  return FirstThatAnswers<WindowSet>(
      servers, absl::StrCat("windows of ", v1::Split_Name(split)),
      [&](const std::string& server) {
        return FetchWindowsFrom(server, split, fingerprint, options, slot.get());
      });
}

}  // namespace tripletstream
