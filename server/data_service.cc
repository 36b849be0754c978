#include "server/data_service.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/digest.h"
#include "server/batch_builder.h"
#include "server/index_plan.h"

namespace tripletstream {
namespace {

void FillWindowBatch(const PreparedDataset& dataset, const SplitWindows& split,
                     int64_t first, int64_t count, v1::WindowBatch* out) {
  const int64_t window_floats = dataset.window_floats();
  out->set_first_window(first);
  out->set_total_windows(static_cast<int64_t>(split.windows.size()));
  out->clear_shape();
  out->add_shape(count);
  out->add_shape(dataset.window_length());
  out->add_shape(dataset.channels());
  out->set_dtype(v1::DTYPE_FLOAT32);
  std::string* data = out->mutable_data();
  data->resize(count * window_floats * sizeof(float));
  float* dst = reinterpret_cast<float*>(data->data());
  out->mutable_user_labels()->Resize(static_cast<int>(count), 0);
  out->mutable_session_labels()->Resize(static_cast<int>(count), 0);
  out->mutable_offsets()->Resize(static_cast<int>(count), 0);
  const size_t window_bytes = static_cast<size_t>(window_floats) * sizeof(float);
  thread_local PayloadHasher hasher;
  hasher.Reset();
  for (int64_t i = 0; i < count; ++i) {
    const WindowRef& w = split.windows[first + i];
    const Series& series = dataset.data.series[w.series];
    float* window = dst + i * window_floats;
    std::memcpy(window, dataset.WindowData(w), window_bytes);
    hasher.Update(window, window_bytes);  // While it is in L1 cache.
    out->set_user_labels(static_cast<int>(i), series.user);
    out->set_session_labels(static_cast<int>(i), series.session);
    out->set_offsets(static_cast<int>(i), w.offset);
  }
  out->set_digest(hasher.Finish(out->user_labels().data(),
                                static_cast<size_t>(out->user_labels_size())));
}

// Producer threads, buffers and the server-wide gauges for one stream.
template <typename Pipeline>
typename Pipeline::Options PipelineOptions(const DataServiceConfig& config,
                                           ServerStats* stats) {
  typename Pipeline::Options options;
  options.threads = config.producer_threads;
  options.buffers_per_thread = config.buffers_per_thread;
  if (stats != nullptr) {
    options.queued_gauge = &stats->queued_batches;
    options.threads_gauge = &stats->producer_threads;
    options.busy_gauge = &stats->producers_busy;
  }
  return options;
}

}  // namespace

absl::StatusOr<SplitId> SplitFromProto(int split) {
  switch (split) {
    case v1::SPLIT_TRAIN: return SplitId::kTrain;
    case v1::SPLIT_VAL: return SplitId::kVal;
    case v1::SPLIT_TEST: return SplitId::kTest;
    case v1::SPLIT_HOLDOUT: return SplitId::kHoldout;
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "split must be one of SPLIT_TRAIN, SPLIT_VAL, SPLIT_TEST, SPLIT_HOLDOUT; got ",
          split));
  }
}

DataService::DataService(std::shared_ptr<const PreparedDataset> dataset,
                         DataServiceConfig config, ServerStats* stats)
    : dataset_(std::move(dataset)),
      config_(config),
      stats_(stats),
      admission_(config.limits, stats) {}

absl::Status DataService::GetDatasetInfo(const v1::GetDatasetInfoRequest& request,
                                         v1::GetDatasetInfoResponse* response) const {
  if (request.batch_size() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("batch_size must be >= 0, got ", request.batch_size()));
  }
  const PreparedDataset& d = *dataset_;
  for (const std::string& name : d.data.channel_names) response->add_channel_names(name);
  response->set_window_length(d.config.window_length);
  response->set_window_stride(d.config.window_stride);
  for (float m : d.norm.mean) response->add_norm_mean(m);
  for (float s : d.norm.std) response->add_norm_std(s);
  for (int s = 0; s < kNumSplits; ++s) {
    const SplitWindows& windows = d.windows.split(static_cast<SplitId>(s));
    v1::SplitInfo* info = response->add_splits();
    info->set_split(static_cast<v1::Split>(s + 1));
    info->set_users(static_cast<int64_t>(windows.users.size()));
    info->set_sessions(windows.sessions());
    info->set_windows(static_cast<int64_t>(windows.windows.size()));
    for (int32_t user : windows.users) info->add_user_names(d.data.user_names[user]);
  }
  for (const std::string& name : d.data.user_names) response->add_user_names(name);
  for (const std::string& name : d.data.session_names) response->add_session_names(name);
  response->set_fingerprint(FingerprintHex(d.fingerprint));
  if (request.batch_size() > 0) {
    response->set_batches_per_epoch(BatchesPerEpoch(
        static_cast<int64_t>(d.windows.split(SplitId::kTrain).windows.size()),
        request.batch_size()));
    response->set_batches_per_epoch_for_batch_size(request.batch_size());
  }
  response->set_augmentation_enabled(config_.augment.enabled());
  response->set_payload_digest(kPayloadDigestName);
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<StreamAdmission::Ticket>> DataService::Admit(
    int64_t windows) const {
  // Every producer buffer may hold a full batch at once.
  const int64_t bytes = int64_t{config_.producer_threads} * config_.buffers_per_thread *
                        windows * dataset_->window_floats() * int64_t{sizeof(float)};
  return admission_.Admit(bytes);
}

absl::Status DataService::CheckFingerprint(const std::string& expected) const {
  if (expected.empty() || expected == FingerprintHex(dataset_->fingerprint)) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "dataset fingerprint mismatch: client expects ", expected, ", server has ",
      FingerprintHex(dataset_->fingerprint),
      " (different data or preprocessing flags)"));
}

absl::StatusOr<std::unique_ptr<BatchPipeline>> DataService::NewTripletPipeline(
    const v1::StreamTripletsRequest& request, std::function<void()> on_ready) const {
  if (request.split() != v1::SPLIT_TRAIN) {
    return absl::InvalidArgumentError(
        "StreamTriplets samples the training split only: set split = SPLIT_TRAIN");
  }
  SamplingConfig sampling;
  sampling.positive_other_session = request.positive_other_session();
  const int64_t train_users =
      static_cast<int64_t>(dataset_->windows.split(SplitId::kTrain).users.size());
  switch (request.mode()) {
    case v1::SAMPLING_MODE_TRIPLET:
      sampling.mode = SamplingMode::kTriplet;
      if (request.batch_size() < 1 || request.batch_size() > config_.max_batch_size) {
        return absl::InvalidArgumentError(absl::StrCat(
            "batch_size must be in [1, ", config_.max_batch_size, "], got ",
            request.batch_size()));
      }
      sampling.batch_size = request.batch_size();
      break;
    case v1::SAMPLING_MODE_PK:
      sampling.mode = SamplingMode::kPk;
      if (request.p() < 2 || request.p() > train_users) {
        return absl::InvalidArgumentError(absl::StrCat(
            "p must be in [2, ", train_users, "] (training users), got ", request.p()));
      }
      if (request.k() < 2 || int64_t{request.p()} * request.k() > config_.max_batch_size) {
        return absl::InvalidArgumentError(absl::StrCat(
            "k must be >= 2 with p*k <= ", config_.max_batch_size, ", got p=",
            request.p(), " k=", request.k()));
      }
      sampling.p = request.p();
      sampling.k = request.k();
      break;
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "mode must be SAMPLING_MODE_TRIPLET or SAMPLING_MODE_PK, got ", request.mode()));
  }
  if (request.epoch() < 0) {
    return absl::InvalidArgumentError(absl::StrCat("epoch must be >= 0, got ", request.epoch()));
  }
  if (absl::Status s = CheckFingerprint(request.expected_fingerprint()); !s.ok()) return s;

  auto builder = std::make_shared<BatchBuilder>(*dataset_, sampling, config_.augment,
                                                request.seed(), request.epoch());
  absl::StatusOr<IndexPlan> plan =
      PlanIndices(builder->batches_per_epoch(), request.start_index(),
                  request.shard().count(), request.shard().index(), request.max_batches());
  if (!plan.ok()) return plan.status();
  auto ticket = Admit(sampling.mode == SamplingMode::kTriplet
                          ? int64_t{3} * sampling.batch_size
                          : int64_t{sampling.p} * sampling.k);
  if (!ticket.ok()) return ticket.status();
  auto options = PipelineOptions<BatchPipeline>(config_, stats_);
  IndexPlan p = *plan;
  return std::make_unique<BatchPipeline>(
      p.count,
      [builder, p, ticket = *std::move(ticket)](int64_t seq, EncodedBatch* out) {
        EncodeBatch(*builder, p.IndexAt(seq), out);
      },
      options, std::move(on_ready));
}

absl::StatusOr<std::unique_ptr<WindowPipeline>> DataService::NewWindowPipeline(
    const v1::StreamWindowsRequest& request, std::function<void()> on_ready) const {
  absl::StatusOr<SplitId> split = SplitFromProto(request.split());
  if (!split.ok()) return split.status();
  if (request.batch_size() < 1 || request.batch_size() > config_.max_batch_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "batch_size must be in [1, ", config_.max_batch_size, "], got ",
        request.batch_size()));
  }
  if (absl::Status s = CheckFingerprint(request.expected_fingerprint()); !s.ok()) return s;
  std::shared_ptr<const PreparedDataset> dataset = dataset_;
  const SplitWindows* windows = &dataset->windows.split(*split);
  const int64_t total = static_cast<int64_t>(windows->windows.size());
  const int64_t batch = request.batch_size();
  auto ticket = Admit(batch);
  if (!ticket.ok()) return ticket.status();
  auto options = PipelineOptions<WindowPipeline>(config_, stats_);
  return std::make_unique<WindowPipeline>(
      (total + batch - 1) / batch,
      [dataset, windows, total, batch, ticket = *std::move(ticket)](int64_t seq,
                                                                    v1::WindowBatch* out) {
        const int64_t first = seq * batch;
        FillWindowBatch(*dataset, *windows, first, std::min(batch, total - first), out);
      },
      options, std::move(on_ready));
}

}  // namespace tripletstream
