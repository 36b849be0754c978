#include "server/data_server.h"

#include <glog/logging.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/strings/str_cat.h"

namespace tripletstream {
namespace {

constexpr char kServiceName[] = "tripletstream.v1.TripletStream";

}  // namespace

DataServer::DataServer(const DataServiceConfig& config)
    : config_(config), grpc_service_(nullptr, &stats_, &reaper_) {}

absl::StatusOr<std::unique_ptr<DataServer>> DataServer::Start(
    std::shared_ptr<const PreparedDataset> dataset, const DataServiceConfig& config,
    const std::string& listen_address) {
  auto server = Listen(config, listen_address);
  if (server.ok()) (*server)->Serve(std::move(dataset));
  return server;
}

absl::StatusOr<std::unique_ptr<DataServer>> DataServer::Listen(
    const DataServiceConfig& config, const std::string& listen_address,
    std::shared_ptr<grpc::ServerCredentials> credentials) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  std::unique_ptr<DataServer> server(new DataServer(config));
  grpc::ServerBuilder builder;
  builder.AddListeningPort(
      listen_address, credentials != nullptr ? credentials : grpc::InsecureServerCredentials(),
      &server->port_);
  builder.RegisterService(&server->grpc_service_);
  builder.SetMaxSendMessageSize(-1);
  // Without this gRPC sets SO_REUSEPORT, and two servers asking for port 0
  // (or a stale one on a fixed port) can share a port and steal each other's
  // connections.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // Clients (client/grpc_util.h) ping every 10 s while a call is open, also
  // when the server sends nothing because the client is behind: accept
  // pings every 5 s rather than answer them with GOAWAY "too many pings".
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", listen_address,
                     " (address in use, or not a host:port?)"));
  }
  grpc::HealthCheckServiceInterface* health = server->server_->GetHealthCheckService();
  health->SetServingStatus(false);
  health->SetServingStatus(kServiceName, false);
  return server;
}

void DataServer::Serve(std::shared_ptr<const PreparedDataset> dataset) {
  CHECK(service_ == nullptr) << "Serve called twice";
  if (shut_down_) return;
  service_ = std::make_unique<DataService>(std::move(dataset), config_, &stats_);
  grpc_service_.SetService(service_.get());
  stats_.serving.store(true);
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  health->SetServingStatus(true);
  health->SetServingStatus(kServiceName, true);
}

void DataServer::Drain() {
  stats_.serving.store(false);
  if (server_ != nullptr) server_->GetHealthCheckService()->SetServingStatus(false);
}

void DataServer::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  Drain();
  if (server_ == nullptr) return;  // Listen failed: nothing was started.
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  server_->Wait();
  // Every stream's OnDone has run; this acquire pairs with their release
  // decrements, so what they did is ordered before the server is destroyed.
  (void)stats_.active_streams.load(std::memory_order_acquire);
}

DataServer::~DataServer() { Shutdown(absl::ZeroDuration()); }

}  // namespace tripletstream
