#include "common/wire.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/digest.h"

namespace tripletstream {
namespace {

// Product of the dimensions, or -1 when one is not positive or it overflows.
int64_t Elements(const google::protobuf::RepeatedField<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d <= 0 || n > (int64_t{1} << 40) / d) return -1;
    n *= d;
  }
  return n;
}

std::string ShapeText(const google::protobuf::RepeatedField<int64_t>& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ","), "]");
}

}  // namespace

int64_t FirstIndexAtOrAfter(int64_t start, int64_t modulus, int64_t residue) {
  return start + ((residue - start % modulus) % modulus + modulus) % modulus;
}

int64_t CountBelow(int64_t first, int64_t end, int64_t step) {
  return first >= end ? 0 : (end - first + step - 1) / step;
}

v1::IndexShard ShardFor(int rank, int world_size, int server, int servers) {
  v1::IndexShard shard;
  shard.set_count(world_size * servers);
  shard.set_index(rank + world_size * server);
  return shard;
}

absl::Status CheckBatch(const v1::Batch& batch, int64_t epoch, int64_t index,
                        bool verify_digest) {
  if (batch.epoch() != epoch || batch.index() != index) {
    return absl::DataLossError(absl::StrCat("expected batch ", index, " of epoch ", epoch,
                                            ", got batch ", batch.index(), " of epoch ",
                                            batch.epoch()));
  }
  const bool triplet = batch.mode() == v1::SAMPLING_MODE_TRIPLET;
  const int rank = triplet ? 4 : 3;
  const int64_t elements = Elements(batch.shape());
  // Only from a valid shape: its product is bounded, so this cannot overflow.
  const int64_t windows = batch.shape_size() == rank && elements >= 0
                              ? (triplet ? batch.shape(0) * batch.shape(1) : batch.shape(0))
                              : -1;
  if (batch.shape_size() != rank || elements < 0 || (triplet && batch.shape(0) != 3) ||
      static_cast<int64_t>(batch.data().size()) != elements * 4 ||
      batch.labels_size() != windows) {
    return absl::DataLossError(absl::StrCat(
        "batch ", index, " is malformed: shape ", ShapeText(batch.shape()), " for mode ",
        v1::SamplingMode_Name(batch.mode()), ", ", batch.data().size(), " data bytes, ",
        batch.labels_size(), " labels"));
  }
  if (verify_digest && PayloadDigest(batch.data().data(), batch.data().size(),
                                     batch.labels().data(), batch.labels_size()) !=
                           batch.digest()) {
    return absl::DataLossError(absl::StrCat("batch ", index, " of epoch ", epoch,
                                            " has a wrong digest (corrupted payload)"));
  }
  return absl::OkStatus();
}

absl::Status CheckWindowBatch(const v1::WindowBatch& batch, int64_t first_window,
                              bool verify_digest) {
  if (batch.first_window() != first_window) {
    return absl::DataLossError(absl::StrCat("expected windows from ", first_window,
                                            ", got windows from ", batch.first_window()));
  }
  const int64_t elements = Elements(batch.shape());
  if (batch.shape_size() != 3 || elements < 0 ||
      static_cast<int64_t>(batch.data().size()) != elements * 4 ||
      batch.user_labels_size() != batch.shape(0) ||
      batch.session_labels_size() != batch.shape(0)) {
    return absl::DataLossError(absl::StrCat(
        "window batch at ", first_window, " is malformed: shape ", ShapeText(batch.shape()),
        ", ", batch.data().size(), " data bytes, ", batch.user_labels_size(), " user and ",
        batch.session_labels_size(), " session labels"));
  }
  if (verify_digest &&
      PayloadDigest(batch.data().data(), batch.data().size(), batch.user_labels().data(),
                    batch.user_labels_size()) != batch.digest()) {
    return absl::DataLossError(
        absl::StrCat("window batch at ", first_window, " has a wrong digest"));
  }
  return absl::OkStatus();
}

}  // namespace tripletstream
