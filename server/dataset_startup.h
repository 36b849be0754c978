#ifndef TRIPLETSTREAM_SERVER_DATASET_STARTUP_H_
#define TRIPLETSTREAM_SERVER_DATASET_STARTUP_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/dataset_loader.h"
#include "common/prepared_dataset.h"

namespace tripletstream {

// The server's dataset at startup: loads and prepares it, logging the
// ingest and split summary, or, with `cache_dir` (--cache_dir), maps it
// from the dataset cache when that holds these inputs; otherwise the
// prepared dataset is written there and mapped back, so this server shares
// the copy too. `skip_report` (--skip_report): where to list skipped rows
// and files, empty for nowhere. `stats`: the load's counts.
absl::StatusOr<std::shared_ptr<const PreparedDataset>> LoadAndPrepare(
    const LoaderConfig& loader_config, const PreprocessConfig& prep,
    const std::string& cache_dir, const std::string& skip_report, LoadStats* stats);

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_SERVER_DATASET_STARTUP_H_
