#ifndef TRIPLETSTREAM_SERVER_GRPC_SERVICE_H_
#define TRIPLETSTREAM_SERVER_GRPC_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <atomic>

#include "absl/status/statusor.h"

#include "server/data_service.h"
#include "server/pipeline_reaper.h"
#include "server/server_stats.h"
#include "tripletstream/v1/tripletstream.grpc.pb.h"

namespace tripletstream {

// The gRPC edge: converts and forwards to DataService. One
// ServerWriteReactor per stream with one write in flight; the next write
// starts from OnWriteDone or, when the next batch was not ready then, from
// the producer that builds it. No callback blocks.
//
// StreamTriplets is a raw method: its batches arrive from the producers
// already in wire format (EncodedBatch) and go out without a serializer
// copy; its request is parsed here. GetDatasetInfo and StreamWindows use
// the generated message types.
class GrpcService final
    : public v1::TripletStream::WithRawCallbackMethod_StreamTriplets<
          v1::TripletStream::CallbackService> {
 public:
  // `service` may be null while the dataset loads: RPCs then fail with
  // UNAVAILABLE until SetService.
  GrpcService(const DataService* service, ServerStats* stats, PipelineReaper* reaper)
      : service_(service), stats_(stats), reaper_(reaper) {}

  // Starts forwarding to `service`, which must outlive this object.
  void SetService(const DataService* service) {
    service_.store(service, std::memory_order_release);
  }

  grpc::ServerUnaryReactor* GetDatasetInfo(grpc::CallbackServerContext* context,
                                           const v1::GetDatasetInfoRequest* request,
                                           v1::GetDatasetInfoResponse* response) override;
  // `request` holds a serialized v1::StreamTripletsRequest.
  grpc::ServerWriteReactor<grpc::ByteBuffer>* StreamTriplets(
      grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) override;
  grpc::ServerWriteReactor<v1::WindowBatch>* StreamWindows(
      grpc::CallbackServerContext* context,
      const v1::StreamWindowsRequest* request) override;

 private:
  // The service, or UNAVAILABLE when it is not set yet.
  absl::StatusOr<const DataService*> service() const;

  std::atomic<const DataService*> service_;
  ServerStats* stats_;
  PipelineReaper* reaper_;
};

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_SERVER_GRPC_SERVICE_H_
