// The delivery ceiling (issue 13): a minimal gRPC server with the project's
// proto that streams one pre-built batch over and over (callback API, one
// write in flight, no preprocessing), so the real server's delivery can be
// reported as a share of what gRPC itself delivers on the same machine.
//
// It copies a real server (--like=HOST:PORT): GetDatasetInfo is forwarded
// to it, and the first StreamTriplets request of a sampling config fetches
// that config's batch 0 from it once. Every streamed batch is that message
// with its epoch and index set, so the probe's checks (order, shape,
// digest) pass unchanged.
//
//   ceiling_server --like=127.0.0.1:50051 [--port=0]
#include <grpcpp/grpcpp.h>
#include <pthread.h>

#include <atomic>
#include <csignal>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "tripletstream/v1/tripletstream.grpc.pb.h"

ABSL_FLAG(std::string, like, "", "The real data server to copy (HOST:PORT).");
ABSL_FLAG(int, port, 0, "Port to listen on; 0 picks one (printed).");

namespace {

using tripletstream::v1::Batch;
using tripletstream::v1::GetDatasetInfoRequest;
using tripletstream::v1::GetDatasetInfoResponse;
using tripletstream::v1::StreamTripletsRequest;
using tripletstream::v1::TripletStream;

class Ceiling final : public TripletStream::CallbackService {
 public:
  explicit Ceiling(std::shared_ptr<grpc::Channel> real) : real_(TripletStream::NewStub(real)) {}

  grpc::ServerUnaryReactor* GetDatasetInfo(grpc::CallbackServerContext* context,
                                           const GetDatasetInfoRequest* request,
                                           GetDatasetInfoResponse* response) override {
    grpc::ClientContext forward;
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(real_->GetDatasetInfo(&forward, *request, response));
    return reactor;
  }

  grpc::ServerWriteReactor<Batch>* StreamTriplets(grpc::CallbackServerContext* context,
                                                  const StreamTripletsRequest* request) override {
    auto* reactor = new Writer();
    grpc::Status fetched = Template(*request, &reactor->batch);
    if (!fetched.ok()) {
      reactor->Finish(fetched);
      return reactor;
    }
    reactor->Start(*request);
    return reactor;
  }

 private:
  class Writer final : public grpc::ServerWriteReactor<Batch> {
   public:
    Batch batch;
    void Start(const StreamTripletsRequest& r) {
      count_ = r.shard().count() > 1 ? r.shard().count() : 1;
      next_ = r.start_index();
      while (next_ < batch.batches_per_epoch() && next_ % count_ != r.shard().index()) ++next_;
      left_ = r.max_batches() > 0 ? r.max_batches() : INT64_MAX;
      batch.set_epoch(r.epoch());
      Next();
    }
    void OnWriteDone(bool ok) override {
      if (!ok) return Finish(grpc::Status(grpc::StatusCode::CANCELLED, "write failed"));
      next_ += count_;
      Next();
    }
    void OnDone() override { delete this; }

   private:
    void Next() {
      if (next_ >= batch.batches_per_epoch() || left_-- == 0) return Finish(grpc::Status::OK);
      batch.set_index(next_);
      StartWrite(&batch);
    }
    int64_t count_ = 1, next_ = 0, left_ = 0;
  };

  // Batch 0 of the request's sampling config, fetched once from the real
  // server.
  grpc::Status Template(const StreamTripletsRequest& r, Batch* out) {
    const auto key = std::make_tuple(r.split(), r.mode(), r.batch_size(), r.p(), r.k(), r.seed(),
                                     r.positive_other_session());
    std::lock_guard<std::mutex> lock(mu_);
    auto it = templates_.find(key);
    if (it == templates_.end()) {
      StreamTripletsRequest first = r;
      first.set_epoch(0);
      first.set_start_index(0);
      first.set_max_batches(1);
      first.clear_shard();
      grpc::ClientContext context;
      auto reader = real_->StreamTriplets(&context, first);
      Batch batch, rest;
      if (!reader->Read(&batch)) return reader->Finish();
      while (reader->Read(&rest)) {
      }
      if (grpc::Status s = reader->Finish(); !s.ok()) return s;
      it = templates_.emplace(key, std::move(batch)).first;
    }
    *out = it->second;
    return grpc::Status::OK;
  }

  std::unique_ptr<TripletStream::Stub> real_;
  std::mutex mu_;
  std::map<std::tuple<int, int, int, int, int, uint64_t, bool>, Batch> templates_;
};

}  // namespace

int main(int argc, char** argv) {
  // Blocked before gRPC starts threads, so only sigwait below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_like).empty()) {
    std::cerr << "ceiling_server: --like=HOST:PORT (a running tripletstream-server) is required\n";
    return 2;
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  Ceiling service(grpc::CreateCustomChannel(absl::GetFlag(FLAGS_like),
                                            grpc::InsecureChannelCredentials(), args));
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:" + std::to_string(absl::GetFlag(FLAGS_port)),
                           grpc::InsecureServerCredentials(), &port);
  builder.SetMaxSendMessageSize(-1);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::cerr << "ceiling_server: cannot listen\n";
    return 1;
  }
  std::cout << "serving on 127.0.0.1:" << port << std::endl;
  int received = 0;
  sigwait(&signals, &received);
  server->Shutdown();
  return 0;
}
