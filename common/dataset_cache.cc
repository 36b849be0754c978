#include "common/dataset_cache.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/digest.h"

namespace tripletstream {
namespace {

namespace fs = std::filesystem;

static_assert(sizeof(float) == 4, "float32 values");
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the dataset cache is written little-endian; this host is not"
#endif

constexpr char kMagic[8] = {'T', 'S', 'D', 'C', 'A', 'C', 'H', '1'};
constexpr uint64_t kHeaderBytes = 48;
constexpr uint64_t kPage = 4096;

uint64_t RoundUp(uint64_t n, uint64_t to) { return (n + to - 1) / to * to; }

std::string Column(const ColumnRef& c) {
  if (c.is_index) return absl::StrCat("#", c.index);
  return c.index >= 0 ? absl::StrCat(c.name, "|", c.index) : c.name;
}

// ----- Serialization -------------------------------------------------------

class Writer {
 public:
  template <typename T>
  void Put(T value) {
    out_.append(reinterpret_cast<const char*>(&value), sizeof(T));
  }
  void PutString(const std::string& s) {
    Put<uint64_t>(s.size());
    out_ += s;
  }
  void PutStrings(const std::vector<std::string>& v) {
    Put<uint64_t>(v.size());
    for (const std::string& s : v) PutString(s);
  }
  template <typename T>
  void PutVector(const std::vector<T>& v) {
    Put<uint64_t>(v.size());
    out_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  }
  std::string& bytes() { return out_; }

 private:
  std::string out_;
};

// Reads what Writer wrote, bounds-checked: any read past the end fails.
class Reader {
 public:
  Reader(const char* data, uint64_t size) : data_(data), size_(size) {}
  template <typename T>
  bool Get(T* value) {
    if (size_ - at_ < sizeof(T)) return false;
    std::memcpy(value, data_ + at_, sizeof(T));
    at_ += sizeof(T);
    return true;
  }
  bool GetString(std::string* s) {
    uint64_t n = 0;
    if (!Get(&n) || size_ - at_ < n) return false;
    s->assign(data_ + at_, n);
    at_ += n;
    return true;
  }
  bool GetStrings(std::vector<std::string>* v) {
    uint64_t n = 0;
    if (!Get(&n) || n > size_ - at_) return false;  // Each takes >= 8 bytes.
    v->resize(n);
    for (std::string& s : *v) {
      if (!GetString(&s)) return false;
    }
    return true;
  }
  template <typename T>
  bool GetVector(std::vector<T>* v) {
    uint64_t n = 0;
    if (!Get(&n) || n > (size_ - at_) / sizeof(T)) return false;
    v->resize(n);
    std::memcpy(v->data(), data_ + at_, n * sizeof(T));
    at_ += n * sizeof(T);
    return true;
  }
  bool done() const { return at_ == size_; }

 private:
  const char* data_;
  uint64_t size_;
  uint64_t at_ = 0;
};

struct SeriesEntry {
  int32_t user = 0;
  int32_t session = 0;
  uint64_t offset = 0;  // In floats from the start of the values.
  uint64_t floats = 0;
};

uint64_t ValuesDigest(uint64_t state, const float* values, int64_t floats) {
  return CombineDigest(state, Digest64(values, static_cast<size_t>(floats) * sizeof(float)));
}

absl::Status ErrnoError(const std::string& what, const std::string& path) {
  const std::string text = absl::StrCat(what, " ", path, ": ", std::strerror(errno));
  return errno == ENOENT ? absl::NotFoundError(text) : absl::UnavailableError(text);
}

absl::Status WriteAll(int fd, const char* data, uint64_t size, const std::string& path) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, std::min<uint64_t>(size, uint64_t{1} << 30));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("cannot write", path);
    }
    data += n;
    size -= static_cast<uint64_t>(n);
  }
  return absl::OkStatus();
}

struct Mapping {
  void* address = MAP_FAILED;
  size_t size = 0;
  ~Mapping() {
    if (address != MAP_FAILED) ::munmap(address, size);
  }
};

}  // namespace

absl::StatusOr<std::string> DatasetCacheKey(const LoaderConfig& loader,
                                            const PreprocessConfig& prep) {
  std::error_code ec;
  const fs::path root = fs::canonical(loader.root, ec);
  if (ec) return absl::NotFoundError(absl::StrCat("data folder ", loader.root, ": ", ec.message()));
  const CsvOptions& csv = loader.csv;
  std::vector<std::string> columns;
  for (const ColumnRef& c : csv.columns) columns.push_back(Column(c));
  const SplitConfig& split = prep.split;
  // Every setting the prepared dataset depends on; a new one belongs here.
  std::string key = absl::StrFormat(
      "tripletstream dataset cache v%d\nroot=%s\n"
      "csv: delimiter=%d terminator=%d header=%d columns=[%s] user_column=%s "
      "session_column=%s max_line_bytes=%d\n"
      "files: regex=%s suffix=%s strict=%d\n"
      "prep: window=%d stride=%d split=%.17g,%.17g,%.17g seed=%d test=%s val=%s holdout=%s "
      "magnitudes=%d sums=[%s] keep_axes=%d gravity_frame=%d gravity_triad=%s "
      "gravity_span=%d\n",
      kCacheVersion, root.string(), static_cast<int>(csv.delimiter),
      static_cast<int>(csv.row_terminator), static_cast<int>(csv.header),
      absl::StrJoin(columns, ","), Column(csv.user_column), Column(csv.session_column),
      csv.max_line_bytes, loader.path_regex, loader.file_suffix, loader.strict ? 1 : 0,
      prep.window_length, prep.window_stride, split.train_fraction, split.val_fraction,
      split.test_fraction, split.seed, split.test_user_regex, split.val_user_regex,
      split.holdout_session_regex, prep.derived.magnitudes ? 1 : 0,
      absl::StrJoin(prep.derived.sums, ";"), prep.derived.keep_axes ? 1 : 0,
      static_cast<int>(prep.derived.gravity_frame), prep.derived.gravity_triad,
      prep.derived.gravity_span);
  // The files the loader reads, with their sizes and modification times.
  auto files = ListDataFiles(loader);
  if (!files.ok()) return files.status();
  for (const std::string& relative : *files) {
    struct stat st;
    if (::stat((root / relative).c_str(), &st) != 0) continue;  // Gone since listed.
    key += absl::StrFormat("file %s %d %d.%09d\n", relative, static_cast<int64_t>(st.st_size),
                           static_cast<int64_t>(st.st_mtim.tv_sec),
                           static_cast<int64_t>(st.st_mtim.tv_nsec));
  }
  return key;
}

std::string DatasetCachePath(const std::string& dir, const std::string& key) {
  return (fs::path(dir) / absl::StrFormat("dataset-%016x.tsc", Digest64(key.data(), key.size())))
      .string();
}

absl::Status WriteDatasetCache(const std::string& path, const std::string& key,
                               const PreparedDataset& dataset, const LoadStats& stats) {
  const Dataset& data = dataset.data;
  Writer meta;
  meta.PutStrings(data.channel_names);
  meta.PutStrings(data.user_names);
  meta.PutStrings(data.session_names);
  meta.Put<uint64_t>(data.series.size());
  uint64_t offset = 0;
  uint64_t checksum = 0;
  for (const Series& s : data.series) {
    meta.Put<int32_t>(s.user);
    meta.Put<int32_t>(s.session);
    meta.Put<uint64_t>(offset);
    meta.Put<uint64_t>(static_cast<uint64_t>(s.floats()));
    offset += static_cast<uint64_t>(s.floats());
  }
  std::vector<int32_t> user_split, series_split;
  for (SplitId id : dataset.splits.user_split) user_split.push_back(static_cast<int32_t>(id));
  for (SplitId id : dataset.splits.series_split) series_split.push_back(static_cast<int32_t>(id));
  meta.PutVector(user_split);
  meta.PutVector(series_split);
  meta.PutVector(dataset.norm.mean);
  meta.PutVector(dataset.norm.std);
  meta.Put<uint64_t>(dataset.fingerprint);
  for (int64_t v : {stats.files_found, stats.files_loaded, stats.files_skipped, stats.bytes,
                    stats.rows_kept, stats.rows_skipped}) {
    meta.Put<int64_t>(v);
  }
  const std::string& meta_bytes = meta.bytes();
  checksum = Digest64(meta_bytes.data(), meta_bytes.size());
  for (const Series& s : data.series) checksum = ValuesDigest(checksum, s.data(), s.floats());

  Writer header;
  header.bytes().append(kMagic, sizeof(kMagic));
  header.Put<uint32_t>(kCacheVersion);
  header.Put<uint32_t>(0);
  header.Put<uint64_t>(key.size());
  header.Put<uint64_t>(meta_bytes.size());
  header.Put<uint64_t>(offset);
  header.Put<uint64_t>(checksum);
  std::string head = header.bytes() + key + meta_bytes;
  head.resize(RoundUp(head.size(), kPage), '\0');

  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("cannot create the cache folder of ", path, ": ",
                                               ec.message()));
  }
  const std::string temporary = absl::StrCat(path, ".tmp.", ::getpid());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("cannot create", temporary);
  absl::Status written = WriteAll(fd, head.data(), head.size(), temporary);
  for (size_t i = 0; written.ok() && i < data.series.size(); ++i) {
    const Series& s = data.series[i];
    written = WriteAll(fd, reinterpret_cast<const char*>(s.data()),
                       static_cast<uint64_t>(s.floats()) * sizeof(float), temporary);
  }
  if (written.ok() && ::fsync(fd) != 0) written = ErrnoError("cannot sync", temporary);
  ::close(fd);
  if (written.ok() && ::rename(temporary.c_str(), path.c_str()) != 0) {
    written = ErrnoError("cannot rename the cache to", path);
  }
  if (!written.ok()) ::unlink(temporary.c_str());
  return written;
}

absl::StatusOr<CachedDataset> OpenDatasetCache(const std::string& path, const std::string& key,
                                               const PreprocessConfig& prep) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("cannot open dataset cache", path);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    absl::Status s = ErrnoError("cannot stat dataset cache", path);
    ::close(fd);
    return s;
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  auto damaged = [&path](const std::string& why) {
    return absl::DataLossError(absl::StrCat("dataset cache ", path, " is damaged: ", why));
  };
  if (size < kHeaderBytes) {
    ::close(fd);
    return damaged(absl::StrCat("only ", size, " bytes"));
  }
  auto mapping = std::make_shared<Mapping>();
  mapping->size = size;
  mapping->address = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (mapping->address == MAP_FAILED) return ErrnoError("cannot map dataset cache", path);
  const char* base = static_cast<const char*>(mapping->address);

  // The magic, then the fixed fields (kHeaderBytes in all).
  Reader header(base + sizeof(kMagic), kHeaderBytes - sizeof(kMagic));
  uint32_t version = 0, reserved = 0;
  uint64_t key_bytes = 0, meta_bytes = 0, value_floats = 0, checksum = 0;
  header.Get(&version);
  header.Get(&reserved);
  header.Get(&key_bytes);
  header.Get(&meta_bytes);
  header.Get(&value_floats);
  header.Get(&checksum);
  if (std::memcmp(base, kMagic, sizeof(kMagic)) != 0) return damaged("not a dataset cache");
  if (version != kCacheVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "dataset cache ", path, " has format version ", version, ", this server writes ",
        kCacheVersion));
  }
  const uint64_t room = size - kHeaderBytes;
  if (key_bytes > room || meta_bytes > room - key_bytes) return damaged("tables past its end");
  const uint64_t values_at = RoundUp(kHeaderBytes + key_bytes + meta_bytes, kPage);
  if (values_at > size || value_floats != (size - values_at) / sizeof(float) ||
      (size - values_at) % sizeof(float) != 0) {
    return damaged(absl::StrCat(size, " bytes, expected ", values_at, " + ", value_floats,
                                " floats (truncated?)"));
  }
  if (key_bytes != key.size() ||
      std::memcmp(base + kHeaderBytes, key.data(), key.size()) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("dataset cache ", path, " was made from other files or settings"));
  }
  const char* meta_at = base + kHeaderBytes + key_bytes;
  const float* values = reinterpret_cast<const float*>(base + values_at);

  Reader meta(meta_at, meta_bytes);
  auto prepared = std::make_unique<PreparedDataset>();
  Dataset& data = prepared->data;
  uint64_t series_count = 0;
  if (!meta.GetStrings(&data.channel_names) || !meta.GetStrings(&data.user_names) ||
      !meta.GetStrings(&data.session_names) || !meta.Get(&series_count) ||
      series_count > meta_bytes / 24) {
    return damaged("bad name or series tables");
  }
  const int channels = data.channels();
  if (channels == 0) return damaged("no channels");
  uint64_t digest = Digest64(meta_at, meta_bytes);
  data.series.resize(series_count);
  for (Series& s : data.series) {
    SeriesEntry e;
    if (!meta.Get(&e.user) || !meta.Get(&e.session) || !meta.Get(&e.offset) ||
        !meta.Get(&e.floats)) {
      return damaged("series table cut short");
    }
    if (e.user < 0 || e.user >= static_cast<int32_t>(data.user_names.size()) || e.session < 0 ||
        e.session >= static_cast<int32_t>(data.session_names.size()) ||
        e.offset > value_floats || e.floats > value_floats - e.offset ||
        e.floats % static_cast<uint64_t>(channels) != 0) {
      return damaged("a series outside the tables or the values");
    }
    s.user = e.user;
    s.session = e.session;
    s.view = values + e.offset;
    s.view_floats = static_cast<int64_t>(e.floats);
  }
  std::vector<int32_t> user_split, series_split;
  CachedDataset out;
  LoadStats& stats = out.stats;
  if (!meta.GetVector(&user_split) || !meta.GetVector(&series_split) ||
      !meta.GetVector(&prepared->norm.mean) || !meta.GetVector(&prepared->norm.std) ||
      !meta.Get(&prepared->fingerprint) || !meta.Get(&stats.files_found) ||
      !meta.Get(&stats.files_loaded) || !meta.Get(&stats.files_skipped) ||
      !meta.Get(&stats.bytes) || !meta.Get(&stats.rows_kept) || !meta.Get(&stats.rows_skipped) ||
      !meta.done()) {
    return damaged("split, normalization or count tables");
  }
  if (user_split.size() != data.user_names.size() || series_split.size() != series_count ||
      prepared->norm.mean.size() != static_cast<size_t>(channels) ||
      prepared->norm.std.size() != static_cast<size_t>(channels)) {
    return damaged("table sizes disagree");
  }
  for (int32_t id : user_split) {
    if (id < 0 || id >= kNumSplits) return damaged("unknown split");
    prepared->splits.user_split.push_back(static_cast<SplitId>(id));
  }
  for (int32_t id : series_split) {
    if (id < 0 || id >= kNumSplits) return damaged("unknown split");
    prepared->splits.series_split.push_back(static_cast<SplitId>(id));
  }
  // Reads every page once: the checksum, and the page cache warmed.
  for (const Series& s : data.series) digest = ValuesDigest(digest, s.data(), s.floats());
  if (digest != checksum) return damaged("checksum mismatch");
  data.storage = std::shared_ptr<const void>(mapping, mapping->address);
  prepared->config = prep;
  prepared->windows = WindowIndex::Build(prepared->data, prepared->splits.series_split,
                                         prep.window_length, prep.window_stride);
  if (prepared->windows.split(SplitId::kTrain).users.size() < 2) {
    return damaged("fewer than 2 training users");
  }
  out.dataset = std::move(prepared);
  out.file_bytes = static_cast<int64_t>(size);
  return out;
}

}  // namespace tripletstream
