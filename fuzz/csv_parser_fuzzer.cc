// Fuzzes the CSV parser (common/csv_parser.h) and its line/field scanner
// (common/csv_scan.h) on arbitrary file contents.
//
// Input: byte 0 and byte 1 pick the options (delimiter, row terminator,
// header mode, default vs. explicit columns, user/session columns, strict,
// tiny max_line_bytes); the rest is the file's contents. ParseCsvBuffer is
// the in-memory entry point; ParseCsvFile is additionally run on a temp file
// with a small read chunk so the chunked reader's line-spanning logic is
// exercised too, and both must agree.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "glog/logging.h"
#include "common/csv_parser.h"
#include "common/csv_scan.h"

namespace ts = tripletstream;
namespace ci = tripletstream::csv_internal;

namespace {

std::string TempPath() {
  static const std::string path = [] {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir != nullptr ? dir : "/tmp") + "/csv_parser_fuzzer." +
           std::to_string(getpid()) + ".csv";
  }();
  return path;
}

void ScanPrimitives(absl::string_view text) {
  std::vector<absl::string_view> fields;
  std::string scratch;
  size_t start = 0;
  int lines = 0;
  while (start <= text.size() && lines < 64) {
    size_t nl = text.find('\n', start);
    absl::string_view line =
        text.substr(start, nl == absl::string_view::npos ? absl::string_view::npos : nl - start);
    const ts::Delimiter detected = ci::DetectDelimiter(line);
    for (ts::Delimiter d : {detected, ts::Delimiter::kComma, ts::Delimiter::kSemicolon,
                            ts::Delimiter::kTab, ts::Delimiter::kWhitespace}) {
      ci::SplitLine(ci::StripTerminator(line, ';'), d, &fields);
      for (absl::string_view f : fields) {
        float v;
        (void)ci::ParseFloat(f, &v);
        (void)ci::FieldText(f, &scratch);
      }
    }
    if (nl == absl::string_view::npos) break;
    start = nl + 1;
    ++lines;
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  FLAGS_minloglevel = 3;  // glog: warnings about fuzzed input are expected.
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t a = data[0];
  const uint8_t b = data[1];
  const absl::string_view contents(reinterpret_cast<const char*>(data) + 2, size - 2);

  ts::CsvOptions options;
  static const ts::Delimiter kDelims[] = {ts::Delimiter::kAuto, ts::Delimiter::kComma,
                                          ts::Delimiter::kSemicolon, ts::Delimiter::kTab,
                                          ts::Delimiter::kWhitespace};
  options.delimiter = kDelims[(a & 7) % 5];
  static const ts::RowTerminator kTerms[] = {ts::RowTerminator::kAuto, ts::RowTerminator::kNone,
                                             ts::RowTerminator::kSemicolon};
  options.row_terminator = kTerms[((a >> 3) & 3) % 3];
  static const ts::HeaderMode kHeaders[] = {ts::HeaderMode::kAuto, ts::HeaderMode::kPresent,
                                            ts::HeaderMode::kAbsent};
  options.header = kHeaders[((a >> 5) & 3) % 3];
  const bool strict = (a & 0x80) != 0;

  switch (b & 3) {
    case 0:
      break;  // Default columns.
    case 1: {
      auto cols = ts::ParseColumnList("#0,#1,#2");
      if (cols.ok()) options.columns = *cols;
      break;
    }
    case 2: {
      auto cols = ts::ParseColumnList("x,y,z");
      if (cols.ok()) options.columns = *cols;
      break;
    }
    case 3: {
      auto cols = ts::ParseColumnList("1,#2");
      if (cols.ok()) options.columns = *cols;
      break;
    }
  }
  if (b & 4) {
    auto user = ts::ParseColumnRef((b & 8) ? "user" : "#0");
    if (user.ok()) options.user_column = *user;
  }
  if (b & 16) {
    auto session = ts::ParseColumnRef((b & 8) ? "session" : "#1");
    if (session.ok()) options.session_column = *session;
  }
  if (b & 32) options.max_line_bytes = 1 + (b >> 6) * 16;  // Tiny line limit.

  ts::FileLabels labels{"u", "s"};
  auto in_memory = ts::ParseCsvBuffer(contents, "fuzz.csv", options, labels, strict, 8);

  if (b & 64) {
    // The file reader too, with a small chunk so lines span reads.
    const std::string path = TempPath();
    FILE* f = std::fopen(path.c_str(), "wb");
    if (f != nullptr) {
      std::fwrite(contents.data(), 1, contents.size(), f);
      std::fclose(f);
      ts::CsvOptions file_options = options;
      file_options.read_chunk_bytes = 1 + (a % 61);
      auto from_file = ts::ParseCsvFile(path, file_options, labels, strict, 8);
      std::remove(path.c_str());
      (void)from_file;
    }
  }

  if (in_memory.ok()) {
    int64_t values = 0;
    for (const auto& g : in_memory->groups) values += static_cast<int64_t>(g.values.size());
    const int64_t channels = static_cast<int64_t>(in_memory->channel_names.size());
    if (channels > 0 && values != in_memory->rows_kept * channels) {
      std::fprintf(stderr, "values %lld != rows_kept %lld * channels %lld\n",
                   static_cast<long long>(values),
                   static_cast<long long>(in_memory->rows_kept),
                   static_cast<long long>(channels));
      std::abort();
    }
  }

  ScanPrimitives(contents);
  return 0;
}
