#include "server/grpc_service.h"

#include <glog/logging.h>

#include <memory>
#include <type_traits>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/grpc_status.h"
#include "common/tsan_annotations.h"
#include "server/encoded_batch.h"

namespace tripletstream {
namespace {

void Account(const EncodedBatch& batch, ServerStats* stats) {
  stats->batches_sent.fetch_add(1, std::memory_order_relaxed);
  stats->triplets_sent.fetch_add(batch.anchors, std::memory_order_relaxed);
  stats->bytes_sent.fetch_add(batch.payload_bytes, std::memory_order_relaxed);
}

void Account(const v1::WindowBatch& batch, ServerStats* stats) {
  stats->window_batches_sent.fetch_add(1, std::memory_order_relaxed);
  stats->bytes_sent.fetch_add(static_cast<int64_t>(batch.data().size()),
                              std::memory_order_relaxed);
}

// What a pipeline message puts on the wire, and how it is made reusable
// after its write: an encoded batch drops its reference to its block (gRPC
// may hold its own a little longer), a proto needs nothing.
const grpc::ByteBuffer* WireOf(const EncodedBatch* batch) { return &batch->buffer; }
const v1::WindowBatch* WireOf(const v1::WindowBatch* batch) { return batch; }
void AfterWrite(EncodedBatch* batch) { batch->buffer.Clear(); }
void AfterWrite(v1::WindowBatch*) {}

template <typename Message>
using WireType =
    std::remove_const_t<std::remove_pointer_t<decltype(WireOf(std::declval<Message*>()))>>;

// One server stream. Lifetime: created by the RPC handler, deleted in
// OnDone. Producers reach it only through the Notifier, which OnDone
// disconnects before the reactor is deleted.
template <typename Message>
class StreamReactor final : public grpc::ServerWriteReactor<WireType<Message>> {
 public:
  using Pipeline = ProducerPipeline<Message>;

  struct Notifier {
    absl::Mutex mu;
    StreamReactor* target ABSL_GUARDED_BY(mu) = nullptr;

    void Notify() {
      absl::MutexLock lock(&mu);
      if (target != nullptr) target->MaybeWrite();
    }
  };

  StreamReactor(ServerStats* stats, PipelineReaper* reaper, std::string peer)
      : stats_(stats), reaper_(reaper), peer_(std::move(peer)),
        notifier_(std::make_shared<Notifier>()) {
    stats_->active_streams.fetch_add(1, std::memory_order_relaxed);
    stats_->streams_started.fetch_add(1, std::memory_order_relaxed);
  }

  std::function<void()> ReadyCallback() {
    std::shared_ptr<Notifier> notifier = notifier_;
    return [notifier] { notifier->Notify(); };
  }

  void Start(std::unique_ptr<Pipeline> pipeline) {
    VLOG(1) << "stream from " << peer_ << ": " << pipeline->total() << " messages";
    pipeline_ = std::move(pipeline);
    {
      absl::MutexLock lock(&notifier_->mu);
      notifier_->target = this;
    }
    pipeline_->Start();
    MaybeWrite();
  }

  void Reject(const absl::Status& status) {
    stats_->streams_failed.fetch_add(1, std::memory_order_relaxed);
    LOG(WARNING) << "rejected stream from " << peer_ << ": " << status;
    this->Finish(ToGrpcStatus(status));
  }

  // Starts the next write if none is in flight and the next message is
  // ready; finishes the call after the last one.
  void MaybeWrite() {
    Message* next = nullptr;
    bool finish = false;
    bool cancelled = false;
    {
      absl::MutexLock lock(&mu_);
      if (in_flight_ != nullptr || finished_) return;
      if (cancelled_) {
        // Producers are stopping; nothing more will be written.
        finished_ = finish = cancelled = true;
      } else if ((next = pipeline_->TryNext()) != nullptr) {
        in_flight_ = next;
      } else if (pipeline_->Exhausted()) {
        finished_ = finish = true;
      }
    }
    if (next != nullptr) {
      this->StartWrite(WireOf(next));
    } else if (finish) {
      this->Finish(cancelled ? grpc::Status(grpc::StatusCode::CANCELLED, "stream cancelled")
                             : grpc::Status::OK);
    }
  }

  void OnWriteDone(bool ok) override {
    {
      absl::MutexLock lock(&mu_);
      if (ok) Account(*in_flight_, stats_);
      AfterWrite(in_flight_);
      pipeline_->Release(in_flight_);
      in_flight_ = nullptr;
      if (!ok) {
        if (finished_) return;
        finished_ = true;
      }
    }
    if (!ok) {
      // The call was cancelled or the client went away.
      pipeline_->Cancel();
      this->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "stream write failed"));
      TS_HAPPENS_BEFORE(this);  // gRPC runs OnDone after this returns.
      return;
    }
    MaybeWrite();
    TS_HAPPENS_BEFORE(this);
  }

  // The client cancelled, the deadline passed or the server is shutting
  // down. A write in flight ends in OnWriteDone(false), which finishes the
  // call; otherwise finish here, since no producer will call MaybeWrite.
  void OnCancel() override {
    if (pipeline_ == nullptr) {  // Rejected: already finished.
      TS_HAPPENS_BEFORE(this);
      return;
    }
    pipeline_->Cancel();
    {
      absl::MutexLock lock(&mu_);
      cancelled_ = true;
    }
    MaybeWrite();
    TS_HAPPENS_BEFORE(this);
  }

  // The last reaction: gRPC calls it once every other one has returned.
  void OnDone() override {
    TS_HAPPENS_AFTER(this);
    {
      absl::MutexLock lock(&notifier_->mu);
      notifier_->target = nullptr;
    }
    if (pipeline_ != nullptr) {
      pipeline_->Cancel();
      Pipeline* raw = pipeline_.release();
      reaper_->Retire([raw] { delete raw; });
    }
    ServerStats* stats = stats_;
    delete this;
    // Last, with release order: DataServer::Shutdown's acquire load after
    // grpc::Server::Wait then orders all of this before the server goes.
    stats->active_streams.fetch_sub(1, std::memory_order_release);
  }

 private:
  ServerStats* const stats_;
  PipelineReaper* const reaper_;
  const std::string peer_;
  std::shared_ptr<Notifier> notifier_;
  std::unique_ptr<Pipeline> pipeline_;
  absl::Mutex mu_;
  Message* in_flight_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

// Creates the reactor of one stream and starts it on the pipeline that
// `new_pipeline(service, ready_callback)` makes, or rejects the call with the
// service's or the pipeline's error.
template <typename Message, typename NewPipeline>
grpc::ServerWriteReactor<WireType<Message>>* OpenStream(grpc::CallbackServerContext* context,
                                              absl::StatusOr<const DataService*> service,
                                              ServerStats* stats, PipelineReaper* reaper,
                                              NewPipeline new_pipeline) {
  auto* reactor = new StreamReactor<Message>(stats, reaper, context->peer());
  absl::StatusOr<std::unique_ptr<ProducerPipeline<Message>>> pipeline =
      service.ok() ? new_pipeline(**service, reactor->ReadyCallback()) : service.status();
  if (!pipeline.ok()) {
    reactor->Reject(pipeline.status());
  } else {
    reactor->Start(*std::move(pipeline));
  }
  return reactor;
}

}  // namespace

absl::StatusOr<const DataService*> GrpcService::service() const {
  const DataService* service = service_.load(std::memory_order_acquire);
  if (service == nullptr) {
    return absl::UnavailableError("the data server is still loading its dataset");
  }
  return service;
}

grpc::ServerUnaryReactor* GrpcService::GetDatasetInfo(
    grpc::CallbackServerContext* context, const v1::GetDatasetInfoRequest* request,
    v1::GetDatasetInfoResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<const DataService*> service = this->service();
  reactor->Finish(ToGrpcStatus(service.ok() ? (*service)->GetDatasetInfo(*request, response)
                                            : service.status()));
  return reactor;
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* GrpcService::StreamTriplets(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) {
  auto parsed = std::make_shared<v1::StreamTripletsRequest>();
  grpc::ByteBuffer bytes(*request);  // Shares the slices; parsing consumes it.
  const bool ok =
      grpc::SerializationTraits<v1::StreamTripletsRequest>::Deserialize(&bytes, parsed.get())
          .ok();
  return OpenStream<EncodedBatch>(
      context, ok ? service() : absl::InvalidArgumentError("malformed StreamTripletsRequest"),
      stats_, reaper_, [parsed](const DataService& service, std::function<void()> on_ready) {
        return service.NewTripletPipeline(*parsed, std::move(on_ready));
      });
}

grpc::ServerWriteReactor<v1::WindowBatch>* GrpcService::StreamWindows(
    grpc::CallbackServerContext* context, const v1::StreamWindowsRequest* request) {
  return OpenStream<v1::WindowBatch>(
      context, service(), stats_, reaper_,
      [request](const DataService& service, std::function<void()> on_ready) {
        return service.NewWindowPipeline(*request, std::move(on_ready));
      });
}

}  // namespace tripletstream
