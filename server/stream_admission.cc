#include "server/stream_admission.h"

#include "absl/strings/str_cat.h"

namespace tripletstream {
namespace {

std::string Mb(int64_t bytes) { return absl::StrCat((bytes + (1 << 20) - 1) >> 20, " MB"); }

}  // namespace

StreamAdmission::Ticket::~Ticket() { admission_->Release(bytes_); }

absl::StatusOr<std::shared_ptr<StreamAdmission::Ticket>> StreamAdmission::Admit(int64_t bytes) {
  absl::MutexLock lock(&mu_);
  if (limits_.max_streams > 0 && streams_ >= limits_.max_streams) {
    if (stats_ != nullptr) stats_->streams_refused_streams.fetch_add(1);
    return absl::ResourceExhaustedError(absl::StrCat(
        "this server has ", streams_, " streams open, its limit (--max_streams); "
        "try another server or later"));
  }
  if (limits_.max_inflight_bytes > 0 && bytes_ + bytes > limits_.max_inflight_bytes) {
    if (stats_ != nullptr) stats_->streams_refused_memory.fetch_add(1);
    return absl::ResourceExhaustedError(absl::StrCat(
        "the stream would pin ", Mb(bytes), " of batch buffers and open streams pin ",
        Mb(bytes_), " of the ", Mb(limits_.max_inflight_bytes),
        " allowed (--max_inflight_mb); use a smaller batch or another server"));
  }
  ++streams_;
  bytes_ += bytes;
  if (stats_ != nullptr) stats_->inflight_bytes_reserved.store(bytes_);
  return std::shared_ptr<Ticket>(new Ticket(this, bytes));
}

void StreamAdmission::Release(int64_t bytes) {
  absl::MutexLock lock(&mu_);
  --streams_;
  bytes_ -= bytes;
  if (stats_ != nullptr) stats_->inflight_bytes_reserved.store(bytes_);
}

int64_t StreamAdmission::open_streams() const {
  absl::MutexLock lock(&mu_);
  return streams_;
}

int64_t StreamAdmission::inflight_bytes() const {
  absl::MutexLock lock(&mu_);
  return bytes_;
}

}  // namespace tripletstream
