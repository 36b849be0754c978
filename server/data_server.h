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
// standard health service (SERVING once started, NOT_SERVING while
// draining) and server reflection. Used by main.cc and by tests, which
// listen on 127.0.0.1:0.
class DataServer {
 public:
  static absl::StatusOr<std::unique_ptr<DataServer>> Start(
      std::shared_ptr<const PreparedDataset> dataset, const DataServiceConfig& config,
      const std::string& listen_address);
  ~DataServer();

  int port() const { return port_; }
  const ServerStats& stats() const { return stats_; }
  const DataService& service() const { return service_; }

  // Marks the server NOT_SERVING, lets in-flight writes finish for up to
  // `grace`, then cancels the remaining streams and joins their producers.
  // Idempotent.
  void Shutdown(absl::Duration grace);

 private:
  DataServer(std::shared_ptr<const PreparedDataset> dataset,
             const DataServiceConfig& config);

  ServerStats stats_;
  PipelineReaper reaper_;  // Outlives the gRPC server: declared before it.
  DataService service_;
  GrpcService grpc_service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_SERVER_DATA_SERVER_H_
