#include "common/csv_options.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/csv_scan.h"

namespace tripletstream {

using csv_internal::Trim;

absl::StatusOr<ColumnRef> ParseColumnRef(absl::string_view text) {
  text = Trim(text);
  ColumnRef ref;
  if (text.empty()) return absl::InvalidArgumentError("empty column reference");
  if (text.front() == '#') {
    int index;
    if (!absl::SimpleAtoi(text.substr(1), &index) || index < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad column position '", text, "': want #N with N >= 0"));
    }
    ref.index = index;
    ref.is_index = true;
    return ref;
  }
  ref.name = std::string(text);
  int index;
  if (absl::SimpleAtoi(text, &index) && index >= 0) ref.index = index;
  return ref;
}

absl::StatusOr<std::vector<ColumnRef>> ParseColumnList(absl::string_view text) {
  std::vector<ColumnRef> refs;
  if (Trim(text).empty()) return refs;
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    auto ref = ParseColumnRef(part);
    if (!ref.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--columns: ", ref.status().message()));
    }
    refs.push_back(*std::move(ref));
  }
  return refs;
}

absl::StatusOr<Delimiter> ParseDelimiter(absl::string_view text) {
  const std::string t = absl::AsciiStrToLower(text);
  if (t == "auto") return Delimiter::kAuto;
  if (t == "comma" || t == ",") return Delimiter::kComma;
  if (t == "semicolon" || t == ";") return Delimiter::kSemicolon;
  if (t == "tab" || t == "\\t" || t == "\t") return Delimiter::kTab;
  if (t == "space" || t == "spaces" || t == "whitespace" || t == " ") {
    return Delimiter::kWhitespace;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--delimiter must be auto, comma, semicolon, tab or space; got '", text, "'"));
}

absl::StatusOr<HeaderMode> ParseHeaderMode(absl::string_view text) {
  const std::string t = absl::AsciiStrToLower(text);
  if (t == "auto") return HeaderMode::kAuto;
  if (t == "yes" || t == "true" || t == "1") return HeaderMode::kPresent;
  if (t == "no" || t == "false" || t == "0") return HeaderMode::kAbsent;
  return absl::InvalidArgumentError(
      absl::StrCat("--header must be auto, yes or no; got '", text, "'"));
}

absl::StatusOr<RowTerminator> ParseRowTerminator(absl::string_view text) {
  const std::string t = absl::AsciiStrToLower(text);
  if (t == "auto") return RowTerminator::kAuto;
  if (t == "none" || t == "no") return RowTerminator::kNone;
  if (t == "semicolon" || t == ";") return RowTerminator::kSemicolon;
  return absl::InvalidArgumentError(absl::StrCat(
      "--row_terminator must be auto, none or semicolon; got '", text, "'"));
}

}  // namespace tripletstream
