#ifndef TRIPLETSTREAM_SERVER_DATA_SERVER_H_
#define TRIPLETSTREAM_SERVER_DATA_SERVER_H_

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/prepared_dataset.h"
#include "server/data_service.h"
#include "server/grpc_service.h"
#include "server/pipeline_reaper.h"
#include "server/server_stats.h"

namespace tripletstream {

// A running tripletstream gRPC server: the TripletStream service, the
// standard health service and server reflection. Used by main.cc and by
// tests, which listen on 127.0.0.1:0.
//
// Health ("" and "tripletstream.v1.TripletStream") is NOT_SERVING from
// Listen until Serve (while the dataset loads; TripletStream RPCs then fail
// with UNAVAILABLE), SERVING after it, and NOT_SERVING again once Shutdown
// starts draining.
class DataServer {
 public:
  // Listens at once, without a dataset; plaintext unless `credentials`
  // (common/tls_files.h MakeServerCredentials) say otherwise.
  static absl::StatusOr<std::unique_ptr<DataServer>> Listen(
      const DataServiceConfig& config, const std::string& listen_address,
      std::shared_ptr<grpc::ServerCredentials> credentials = nullptr);
  // Listen + Serve.
  static absl::StatusOr<std::unique_ptr<DataServer>> Start(
      std::shared_ptr<const PreparedDataset> dataset, const DataServiceConfig& config,
      const std::string& listen_address);
  ~DataServer();

  // Starts serving `dataset` and reports SERVING. Call once, before Shutdown.
  void Serve(std::shared_ptr<const PreparedDataset> dataset);

  int port() const { return port_; }
  ServerStats& stats() { return stats_; }
  const ServerStats& stats() const { return stats_; }
  // Only after Serve.
  const DataService& service() const { return *service_; }

  // Reports NOT_SERVING (health and metrics) but keeps serving: load
  // balancers and Kubernetes stop sending new clients while open streams
  // go on. Idempotent.
  void Drain();

  // Drain, then stop accepting calls, let in-flight writes finish for up to
  // `grace`, cancel the remaining streams and join their producers.
  // Idempotent.
  void Shutdown(absl::Duration grace);

 private:
  explicit DataServer(const DataServiceConfig& config);

  // Destroyed bottom-up: the gRPC server, then the reaper (joining the
  // producers of finished streams), then the dataset they read.
  const DataServiceConfig config_;
  ServerStats stats_;
  std::unique_ptr<DataService> service_;  // Set by Serve.
  PipelineReaper reaper_;
  GrpcService grpc_service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_SERVER_DATA_SERVER_H_
