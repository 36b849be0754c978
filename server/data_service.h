#ifndef TRIPLETSTREAM_SERVER_DATA_SERVICE_H_
#define TRIPLETSTREAM_SERVER_DATA_SERVICE_H_

#include <functional>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/prepared_dataset.h"
#include "server/encoded_batch.h"
#include "server/producer_pipeline.h"
#include "server/sampling_config.h"
#include "server/server_stats.h"
#include "server/stream_admission.h"
#include "tripletstream/v1/tripletstream.pb.h"

namespace tripletstream {

struct DataServiceConfig {
  int producer_threads = 1;    // Per stream.
  int buffers_per_thread = 2;  // Reusable messages per producer thread.
  AugmentConfig augment;
  int max_batch_size = 4096;   // Largest B, P*K or window batch accepted.
  StreamLimits limits;         // Open streams and the buffers they pin.
};

using BatchPipeline = ProducerPipeline<EncodedBatch>;
using WindowPipeline = ProducerPipeline<v1::WindowBatch>;

// The server's logic, free of gRPC: validates requests and creates the
// producer pipelines that build the stream. Thread-safe.
class DataService {
 public:
  DataService(std::shared_ptr<const PreparedDataset> dataset,
              DataServiceConfig config, ServerStats* stats);

  absl::Status GetDatasetInfo(const v1::GetDatasetInfoRequest& request,
                              v1::GetDatasetInfoResponse* response) const;

  // INVALID_ARGUMENT describing the first bad field; FAILED_PRECONDITION on
  // a fingerprint mismatch; RESOURCE_EXHAUSTED beyond config.limits (the
  // pipeline holds its share until it is destroyed). Not started.
  absl::StatusOr<std::unique_ptr<BatchPipeline>> NewTripletPipeline(
      const v1::StreamTripletsRequest& request, std::function<void()> on_ready) const;
  absl::StatusOr<std::unique_ptr<WindowPipeline>> NewWindowPipeline(
      const v1::StreamWindowsRequest& request, std::function<void()> on_ready) const;

  const PreparedDataset& dataset() const { return *dataset_; }

 private:
  absl::Status CheckFingerprint(const std::string& expected) const;
  // A share of the limits for a stream whose batches hold `windows` windows.
  absl::StatusOr<std::shared_ptr<StreamAdmission::Ticket>> Admit(int64_t windows) const;

  std::shared_ptr<const PreparedDataset> dataset_;
  DataServiceConfig config_;
  ServerStats* stats_;
  mutable StreamAdmission admission_;
};

// Converts between wire and internal split ids; nullopt-like INVALID_ARGUMENT
// for SPLIT_UNSPECIFIED or unknown values.
absl::StatusOr<SplitId> SplitFromProto(int split);

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_SERVER_DATA_SERVICE_H_
