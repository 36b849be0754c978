#include "trainer/inference.h"

#include <glog/logging.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/csv_parser.h"
#include "common/derived_channels.h"
#include "common/normalizer.h"
#include "trainer/checkpoint_files.h"

namespace tripletstream {

absl::StatusOr<LoadedModel> LoadModel(const std::string& given) {
  auto verified = VerifiedCheckpointPath(given);
  if (!verified.ok()) return verified.status();
  const std::string& checkpoint = *verified;
  auto meta = ReadCheckpointMeta(checkpoint);
  if (!meta.ok()) return meta.status();
  auto options = ParseTcnOptions(meta->model_config);
  if (!options.ok()) return options.status();
  LoadedModel loaded;
  loaded.model = Tcn(*options);
  if (absl::Status s = LoadModelWeights(checkpoint, loaded.model); !s.ok()) return s;
  loaded.model->eval();
  loaded.meta = *std::move(meta);
  return loaded;
}

absl::StatusOr<WindowSet> WindowsFromCsv(const std::vector<std::string>& files,
                                         const CheckpointMeta& meta, int stride) {
  if (stride < 1) return absl::InvalidArgumentError("--stride must be >= 1");
  CsvOptions options;
  // Derived channels (|rotationRate|, ...) are computed from the raw
  // columns, so those files are read whole and planned by name.
  bool derived = false;
  for (const std::string& name : meta.channel_names) derived |= IsDerivedChannelName(name);
  for (const std::string& name : meta.channel_names) {
    if (derived) break;
    ColumnRef ref;
    ref.name = name;
    options.columns.push_back(ref);
  }
  NormStats stats;
  stats.mean = meta.norm_mean;
  stats.std = meta.norm_std;
  const int64_t channels = static_cast<int64_t>(meta.channel_names.size());
  WindowSet set;
  set.length = meta.window_length;
  set.channels = channels;
  for (size_t f = 0; f < files.size(); ++f) {
    auto parsed = ParseCsvFile(files[f], options, FileLabels{"", files[f]}, /*strict=*/false,
                               /*max_skipped_records=*/20);
    if (!parsed.ok()) return parsed.status();
    if (parsed->rows_skipped > 0) {
      LOG(WARNING) << files[f] << ": " << parsed->rows_skipped << " malformed rows skipped, "
                   << "first at line " << parsed->skipped[0].line << ": "
                   << parsed->skipped[0].reason;
    }
    std::vector<float>& values = parsed->groups[0].values;
    if (derived) {
      auto plan = PlanFromNames(meta.channel_names, parsed->channel_names);
      if (!plan.ok()) {
        return absl::Status(plan.status().code(), absl::StrCat(files[f], ": ", plan.status().message()));
      }
      values = ApplyPlan(*plan, static_cast<int>(parsed->channel_names.size()), values);
    }
    const int64_t rows = static_cast<int64_t>(values.size()) / channels;
    if (rows < meta.window_length) {
      return absl::FailedPreconditionError(absl::StrCat(
          files[f], ": ", rows, " usable rows, fewer than one window of ", meta.window_length));
    }
    NormalizeRows(stats, values.data(), rows);
    for (int64_t offset = 0; offset + meta.window_length <= rows; offset += stride) {
      set.values.insert(set.values.end(), values.begin() + offset * channels,
                        values.begin() + (offset + meta.window_length) * channels);
      set.users.push_back(0);
      set.sessions.push_back(static_cast<int32_t>(f));
    }
  }
  return set;
}

std::vector<float> MeanTemplate(const std::vector<float>& embeddings, int dim) {
  std::vector<double> sum(dim, 0.0);
  for (size_t i = 0; i < embeddings.size(); ++i) sum[i % dim] += embeddings[i];
  double norm = 0;
  for (double v : sum) norm += v * v;
  norm = std::sqrt(std::max(norm, 1e-24));
  std::vector<float> out(dim);
  for (int d = 0; d < dim; ++d) out[d] = static_cast<float>(sum[d] / norm);
  return out;
}

}  // namespace tripletstream
