#include "common/dataset_loader.h"

#include <glog/logging.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <new>
#include <optional>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "re2/re2.h"

namespace tripletstream {
namespace {

namespace fs = std::filesystem;

constexpr int kLoggedSkippedRows = 20;

struct FileTask {
  std::string path;      // Full path.
  std::string relative;  // Relative to the root, '/' separated.
  FileLabels labels;
};

struct Listing {
  std::vector<std::string> files;          // Relative to the root, sorted.
  std::vector<std::string> ignored_links;  // "link -> target: why".
};

// Lists the data files under the root. Symlinked folders are followed, but
// every folder (by device and inode) is listed at most once: real folders
// first, then symlinked ones in discovery order, so a link back up the tree
// (a cycle) or a second link to a listed folder is not followed; it is
// reported instead. Entries are visited in name order, so which of two
// paths to one folder is kept does not depend on the file system.
class FileLister {
 public:
  explicit FileLister(const LoaderConfig& config) : config_(config) {}

  absl::StatusOr<Listing> Run() {
    std::error_code ec;
    if (!fs::is_directory(config_.root, ec)) {
      return absl::NotFoundError(absl::StrCat(
          "data root '", config_.root, "' does not exist or is not a directory"));
    }
    struct stat st;
    if (stat(config_.root.c_str(), &st) != 0) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot list '", config_.root, "': ", std::strerror(errno)));
    }
    seen_.insert({st.st_dev, st.st_ino});
    if (absl::Status s = Walk(config_.root, ""); !s.ok()) return s;
    // `links_` grows while symlinked folders are walked.
    for (size_t i = 0; i < links_.size(); ++i) {
      const std::string relative = links_[i];
      const std::string path = Join(relative);
      if (stat(path.c_str(), &st) != 0) continue;  // Gone since listed.
      if (!seen_.insert({st.st_dev, st.st_ino}).second) {
        std::error_code link_ec;
        const fs::path target = fs::read_symlink(path, link_ec);
        std::string why = absl::StrCat(
            relative, " -> ", link_ec ? std::string("?") : target.string(),
            ": symlinked folder not followed: it leads to a folder already listed (a "
            "symlink cycle, or a second path to the same files)");
        LOG(WARNING) << "under " << config_.root << ": " << why;
        listing_.ignored_links.push_back(std::move(why));
        continue;
      }
      (void)Walk(path, relative);
    }
    std::sort(listing_.files.begin(), listing_.files.end());
    return std::move(listing_);
  }

 private:
  std::string Join(const std::string& relative) const {
    return (fs::path(config_.root) / relative).string();
  }

  // Lists `dir` (`relative` to the root, "" for the root itself), descending
  // into real subfolders and queueing symlinked ones.
  absl::Status Walk(const std::string& dir, const std::string& relative) {
    std::error_code ec;
    fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
    if (ec) {
      if (relative.empty()) {
        return absl::PermissionDeniedError(
            absl::StrCat("cannot list '", config_.root, "': ", ec.message()));
      }
      LOG(WARNING) << "while listing " << dir << ": " << ec.message();
      return absl::OkStatus();
    }
    std::vector<fs::directory_entry> entries;
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      if (ec) {
        LOG(WARNING) << "while listing " << dir << ": " << ec.message();
        break;
      }
      entries.push_back(*it);
    }
    std::sort(entries.begin(), entries.end(),
              [](const fs::directory_entry& a, const fs::directory_entry& b) {
                return a.path().filename() < b.path().filename();
              });
    for (const fs::directory_entry& entry : entries) {
      const std::string name = entry.path().filename().string();
      // Lexical: a symlinked folder keeps its name under the root.
      const std::string child = relative.empty() ? name : absl::StrCat(relative, "/", name);
      std::error_code entry_ec;
      if (entry.is_directory(entry_ec)) {  // Follows symlinks.
        if (entry.is_symlink(entry_ec)) {
          links_.push_back(child);
          continue;
        }
        struct stat st;
        if (stat(entry.path().c_str(), &st) != 0) continue;
        // A folder reached twice without a symlink (a bind mount).
        if (!seen_.insert({st.st_dev, st.st_ino}).second) continue;
        (void)Walk(entry.path().string(), child);
        continue;
      }
      if (!absl::EndsWith(name, config_.file_suffix)) continue;
      if (!entry.is_regular_file(entry_ec)) continue;
      listing_.files.push_back(child);
    }
    return absl::OkStatus();
  }

  const LoaderConfig& config_;
  std::set<std::pair<dev_t, ino_t>> seen_;  // Folders listed or being listed.
  std::vector<std::string> links_;          // Symlinked folders to follow.
  Listing listing_;
};

// Assigns users/sessions by layout; nullopt (with `why`) when a file does not
// belong to the dataset.
std::optional<FileLabels> LabelsFor(const std::string& relative, const LoaderConfig& config,
                                    const RE2* regex, std::string* why) {
  FileLabels labels;
  labels.session = relative;
  if (regex != nullptr) {
    const int groups = regex->NumberOfCapturingGroups();
    std::vector<re2::StringPiece> pieces(groups + 1);
    if (!regex->Match(relative, 0, relative.size(), RE2::ANCHOR_BOTH, pieces.data(),
                      groups + 1)) {
      *why = "does not match --user_regex";
      return std::nullopt;
    }
    const auto& names = regex->NamedCapturingGroups();
    if (auto it = names.find("user"); it != names.end()) {
      labels.user = std::string(pieces[it->second].data(), pieces[it->second].size());
    }
    if (auto it = names.find("session"); it != names.end() && !pieces[it->second].empty()) {
      labels.session = std::string(pieces[it->second].data(), pieces[it->second].size());
    }
    return labels;
  }
  const bool user_from_rows =
      config.csv.user_column.is_index || !config.csv.user_column.name.empty();
  if (user_from_rows) return labels;
  const size_t slash = relative.find('/');
  if (slash == std::string::npos) {
    *why = "is not inside a user folder (layout ROOT/<user>/...; see --user_regex, "
           "--user_column)";
    return std::nullopt;
  }
  labels.user = relative.substr(0, slash);
  return labels;
}

// The compiled --user_regex (null without one); INVALID_ARGUMENT when it
// does not compile or names no user while rows do not either.
absl::StatusOr<std::unique_ptr<RE2>> CompilePathRegex(const LoaderConfig& config) {
  if (config.path_regex.empty()) return nullptr;
  auto regex = std::make_unique<RE2>(config.path_regex, RE2::Quiet);
  if (!regex->ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid --user_regex '", config.path_regex, "': ", regex->error()));
  }
  const bool user_from_rows =
      config.csv.user_column.is_index || !config.csv.user_column.name.empty();
  if (regex->NamedCapturingGroups().count("user") == 0 && !user_from_rows) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--user_regex '", config.path_regex, "' has no (?P<user>...) group"));
  }
  return regex;
}

// The listed files that have labels, in path order; the others are recorded
// in `out` as skipped.
std::vector<FileTask> PlanTasks(const std::vector<std::string>& listed,
                                const LoaderConfig& config, const RE2* regex,
                                LoadedData* out) {
  std::vector<FileTask> tasks;
  int64_t unmatched = 0;
  for (const std::string& relative : listed) {
    std::string why;
    std::optional<FileLabels> labels = LabelsFor(relative, config, regex, &why);
    if (!labels) {
      ++unmatched;
      out->skipped_files.push_back(absl::StrCat(relative, ": ", why));
      continue;
    }
    tasks.push_back({(fs::path(config.root) / relative).string(), relative, *labels});
  }
  out->stats.files_skipped = unmatched;
  if (unmatched > 0) {
    LOG(WARNING) << unmatched << " of " << listed.size() << " files ignored, e.g. "
                 << out->skipped_files.front();
  }
  return tasks;
}

// Parses the tasks on `threads` threads; results are kept per file so the
// merge runs in path order whatever the thread count. A fatal result (any
// failure under strict, a configuration error or a file too large for
// memory otherwise) stops the files after it, but every file before it is
// still parsed, so the error returned is the first in path order.
absl::StatusOr<std::vector<absl::StatusOr<CsvFileResult>>> ParseAll(
    const std::vector<FileTask>& tasks, const LoaderConfig& config, int threads) {
  auto fatal = [&config](const absl::StatusOr<CsvFileResult>& result) {
    return !result.ok() &&
           (config.strict || result.status().code() == absl::StatusCode::kInvalidArgument ||
            result.status().code() == absl::StatusCode::kResourceExhausted);
  };
  std::vector<absl::StatusOr<CsvFileResult>> results(
      tasks.size(), absl::UnknownError("not parsed"));
  std::atomic<size_t> next{0};
  std::atomic<size_t> first_fatal{tasks.size()};
  auto worker = [&] {
    for (size_t i = next.fetch_add(1); i < tasks.size(); i = next.fetch_add(1)) {
      if (i > first_fatal.load()) return;
      try {  // ParseCsvFile does not throw; an exception here would end the process.
        results[i] = ParseCsvFile(tasks[i].path, config.csv, tasks[i].labels,
                                  config.strict, config.max_skipped_records);
      } catch (const std::bad_alloc&) {
        results[i] = absl::ResourceExhaustedError(
            absl::StrCat(tasks[i].path, ": out of memory while loading"));
      }
      if (fatal(results[i])) {
        size_t seen = first_fatal.load();
        while (i < seen && !first_fatal.compare_exchange_weak(seen, i)) {
        }
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  if (first_fatal.load() < tasks.size()) return results[first_fatal.load()].status();
  return results;
}

using MergedSeries = std::map<std::pair<std::string, std::string>, std::vector<float>>;

// Adds every parsed file's rows to its (user, session) series, in path
// order, and its counts to `out`; failed files are skipped and recorded.
absl::StatusOr<MergedSeries> MergeResults(const std::vector<FileTask>& tasks,
                                          std::vector<absl::StatusOr<CsvFileResult>>& results,
                                          const LoaderConfig& config, LoadedData* out) {
  std::string channels_from;
  MergedSeries merged;
  for (size_t i = 0; i < tasks.size(); ++i) {
    absl::StatusOr<CsvFileResult>& result = results[i];
    if (!result.ok()) {
      LOG(WARNING) << "skipping file: " << result.status().message();
      out->skipped_files.push_back(std::string(result.status().message()));
      ++out->stats.files_skipped;
      continue;
    }
    if (channels_from.empty()) {
      out->dataset.channel_names = result->channel_names;
      channels_from = tasks[i].relative;
    } else if (result->channel_names != out->dataset.channel_names) {
      return absl::InvalidArgumentError(absl::StrCat(
          "files disagree on columns: ", channels_from, " has [",
          absl::StrJoin(out->dataset.channel_names, ","), "], ", tasks[i].relative,
          " has [", absl::StrJoin(result->channel_names, ","), "]; select with --columns"));
    }
    ++out->stats.files_loaded;
    out->stats.bytes += result->bytes;
    out->stats.rows_kept += result->rows_kept;
    out->stats.rows_skipped += result->rows_skipped;
    for (SkippedRow& row : result->skipped) {
      if (static_cast<int64_t>(out->skipped_rows.size()) < config.max_skipped_records) {
        out->skipped_rows.push_back(std::move(row));
      }
    }
    try {
      for (RowGroup& group : result->groups) {
        std::vector<float>& values = merged[{group.user, group.session}];
        if (values.empty()) {
          values = std::move(group.values);
        } else {
          values.insert(values.end(), group.values.begin(), group.values.end());
        }
      }
    } catch (const std::bad_alloc&) {
      return absl::ResourceExhaustedError(absl::StrCat(
          tasks[i].path, ": out of memory adding its rows to the ", out->stats.rows_kept,
          " rows of the files before it; the data set does not fit in memory"));
    }
    result = absl::CancelledError("merged");  // Frees the file's memory early.
  }
  return merged;
}

// Name lists in natural order, then series sorted by (user, session).
void AssembleDataset(MergedSeries merged, Dataset* dataset) {
  std::vector<std::string> users, sessions;
  for (const auto& [key, values] : merged) {
    users.push_back(key.first);
    sessions.push_back(key.second);
  }
  for (auto* names : {&users, &sessions}) {
    std::sort(names->begin(), names->end(), NaturalLess);
    names->erase(std::unique(names->begin(), names->end()), names->end());
  }
  auto id_of = [](const std::vector<std::string>& names, const std::string& name) {
    return static_cast<int32_t>(
        std::lower_bound(names.begin(), names.end(), name, NaturalLess) - names.begin());
  };
  for (auto& [key, values] : merged) {
    Series series;
    series.user = id_of(users, key.first);
    series.session = id_of(sessions, key.second);
    series.values = std::move(values);
    dataset->series.push_back(std::move(series));
  }
  std::sort(dataset->series.begin(), dataset->series.end(),
            [](const Series& a, const Series& b) {
              return a.user != b.user ? a.user < b.user : a.session < b.session;
            });
  dataset->user_names = std::move(users);
  dataset->session_names = std::move(sessions);
}

void LogLoaded(const LoadedData& out, int threads) {
  const LoadStats& stats = out.stats;
  LOG(INFO) << "loaded " << out.dataset.user_names.size() << " users, "
            << out.dataset.session_names.size() << " sessions, " << out.dataset.series.size()
            << " series, " << out.dataset.channels() << " channels, " << stats.rows_kept
            << " rows from " << stats.files_loaded << " of " << stats.files_found << " files ("
            << stats.bytes / 1e6 << " MB) in " << stats.seconds << " s (" << stats.mb_per_s()
            << " MB/s, " << threads << " threads); skipped " << stats.rows_skipped
            << " rows and " << stats.files_skipped << " files";
  for (int i = 0; i < std::min<int>(kLoggedSkippedRows, out.skipped_rows.size()); ++i) {
    const SkippedRow& row = out.skipped_rows[i];
    LOG(WARNING) << "skipped " << row.file << ":" << row.line << ": " << row.reason;
  }
  if (stats.rows_skipped > kLoggedSkippedRows) {
    LOG(WARNING) << stats.rows_skipped << " rows skipped in all"
                 << " (list them with --skip_report=FILE)";
  }
}

}  // namespace

absl::StatusOr<LoadedData> LoadDataset(const LoaderConfig& config) {
  const auto started = std::chrono::steady_clock::now();
  auto regex = CompilePathRegex(config);
  if (!regex.ok()) return regex.status();
  auto listing = FileLister(config).Run();
  if (!listing.ok()) return listing.status();

  LoadedData out;
  out.ignored_links = std::move(listing->ignored_links);
  out.stats.files_found = static_cast<int64_t>(listing->files.size());
  const std::vector<FileTask> tasks = PlanTasks(listing->files, config, regex->get(), &out);
  const int threads =
      std::max(1, std::min<int>(config.threads, static_cast<int>(tasks.size())));
  auto results = ParseAll(tasks, config, threads);
  if (!results.ok()) return results.status();
  auto merged = MergeResults(tasks, *results, config, &out);
  if (!merged.ok()) return merged.status();
  if (merged->empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no usable rows in any '*", config.file_suffix, "' file under '", config.root,
        "' (", out.stats.files_found, " found, ", out.stats.files_skipped, " skipped",
        out.skipped_files.empty() ? "" : absl::StrCat("; e.g. ", out.skipped_files[0]),
        ")"));
  }
  AssembleDataset(*std::move(merged), &out.dataset);
  out.stats.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  LogLoaded(out, threads);
  if (out.dataset.user_names.size() < 2) {
    return absl::FailedPreconditionError(absl::StrCat(
        "need at least 2 users with usable rows under '", config.root, "', found ",
        out.dataset.user_names.size(),
        out.dataset.user_names.empty() ? "" : absl::StrCat(" (", out.dataset.user_names[0], ")"),
        "; check the layout flags (--user_regex, --user_column)"));
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> ListDataFiles(const LoaderConfig& config) {
  auto listing = FileLister(config).Run();
  if (!listing.ok()) return listing.status();
  return std::move(listing->files);
}

absl::Status WriteSkipReport(const LoadedData& data, const std::string& path) {
  std::ofstream out(path);
  for (const std::string& link : data.ignored_links) out << link << "\n";
  for (const std::string& file : data.skipped_files) out << file << "\n";
  for (const SkippedRow& row : data.skipped_rows) {
    out << row.file << ":" << row.line << ": " << row.reason << "\n";
  }
  out.close();
  if (!out) return absl::UnavailableError(absl::StrCat("cannot write skip report ", path));
  return absl::OkStatus();
}

}  // namespace tripletstream
