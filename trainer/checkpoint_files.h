#ifndef TRIPLETSTREAM_TRAINER_CHECKPOINT_FILES_H_
#define TRIPLETSTREAM_TRAINER_CHECKPOINT_FILES_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace tripletstream {

// Checkpoint files on disk, without LibTorch: every checkpoint has a digest
// of its bytes beside it (PATH.digest), and the previous good one is kept as
// PREV (checkpoint.pt -> checkpoint.prev.pt) until a new one is committed, so
// damaged bytes are found on load and a crash mid-write never leaves no good
// checkpoint.

// PATH's previous checkpoint: "dir/checkpoint.pt" -> "dir/checkpoint.prev.pt".
std::string PreviousCheckpointPath(const std::string& path);

// Digest64 of the file's bytes, read in chunks; NOT_FOUND / DATA_LOSS.
absl::StatusOr<uint64_t> FileDigest(const std::string& path);

// OK when PATH matches PATH.digest. NOT_FOUND without PATH; UNIMPLEMENTED
// without a digest file (written before digests existed); DATA_LOSS on a
// mismatch or an unreadable digest file.
absl::Status VerifyCheckpointFile(const std::string& path);

// Makes the fully written `temporary` the checkpoint at `path`: digest
// beside it, the current checkpoint (when it verifies) kept as the previous
// one. Every step is a rename, ordered so that a crash at any point leaves a
// checkpoint that VerifiedCheckpointPath accepts.
absl::Status CommitCheckpointFile(const std::string& temporary, const std::string& path);

// The checkpoint to load for PATH: PATH when it verifies (or has no digest
// file, with a warning), else the previous checkpoint when that verifies
// (with a warning naming what was wrong). NOT_FOUND when neither exists;
// FAILED_PRECONDITION when what exists is damaged (retrying cannot help:
// the message says which files to remove).
absl::StatusOr<std::string> VerifiedCheckpointPath(const std::string& path);

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_TRAINER_CHECKPOINT_FILES_H_
