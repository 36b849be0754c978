#include "common/csv_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>

#include "tests/testing/temp_dir.h"

namespace tripletstream {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const FileLabels kLabels{"alice", "s1"};

absl::StatusOr<CsvFileResult> Parse(const std::string& text, CsvOptions options = {},
                                    bool strict = false) {
  return ParseCsvBuffer(text, "f.csv", options, kLabels, strict, 1000);
}

std::vector<float> Values(const CsvFileResult& r) {
  return r.groups.empty() ? std::vector<float>() : r.groups[0].values;
}

TEST(CsvParserTest, CommaWithHeader) {
  auto r = Parse("a,b\n1,2\n3.5,-4e-1\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->channel_names, ElementsAre("a", "b"));
  EXPECT_THAT(Values(*r), ElementsAre(1, 2, 3.5f, -0.4f));
  EXPECT_EQ(r->rows_kept, 2);
  ASSERT_EQ(r->groups.size(), 1u);
  EXPECT_EQ(r->groups[0].user, "alice");
  EXPECT_EQ(r->groups[0].session, "s1");
}

TEST(CsvParserTest, DetectsSemicolonTabAndSpaces) {
  for (const std::string& text :
       {std::string("a;b\n1;2\n"), std::string("a\tb\n1\t2\n"),
        std::string("a   b\n  1  2\n"), std::string("a b\n1 \t 2\n")}) {
    auto r = Parse(text);
    ASSERT_TRUE(r.ok()) << r.status() << " for " << text;
    EXPECT_THAT(r->channel_names, ElementsAre("a", "b")) << text;
    EXPECT_THAT(Values(*r), ElementsAre(1, 2)) << text;
  }
}

TEST(CsvParserTest, ExplicitDelimiterWins) {
  CsvOptions options;
  options.delimiter = Delimiter::kSemicolon;
  options.columns = *ParseColumnList("a,b");
  auto r = Parse("a;b\n3;4\n1,5;2\n", options);  // "1,5" is not a number here.
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Values(*r), ElementsAre(3, 4));
  ASSERT_EQ(r->skipped.size(), 1u);
  EXPECT_EQ(r->skipped[0].reason, "field 1 (a) is not a number: '1,5'");
}

TEST(CsvParserTest, NoHeaderNamesColumnsByPosition) {
  auto r = Parse("1,2,3\n4,5,6\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->channel_names, ElementsAre("c0", "c1", "c2"));
  EXPECT_THAT(Values(*r), ElementsAre(1, 2, 3, 4, 5, 6));
  CsvOptions options;
  options.header = HeaderMode::kPresent;
  auto forced = Parse("1,2\n3,4\n", options);
  ASSERT_TRUE(forced.ok());
  EXPECT_THAT(forced->channel_names, ElementsAre("1", "2"));
  EXPECT_EQ(forced->rows_kept, 1);
}

TEST(CsvParserTest, ToleratesBomCrlfTrailingDelimiterAndBlankLines) {
  auto r = Parse("\xEF\xBB\xBF" "a,b,\r\n1,2,\r\n\r\n3,4\r\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->channel_names, ElementsAre("a", "b"));
  EXPECT_THAT(Values(*r), ElementsAre(1, 2, 3, 4));
  EXPECT_EQ(r->rows_skipped, 0);
}

TEST(CsvParserTest, SkipsUnnamedIndexColumnByDefault) {
  // pandas' to_csv writes an index column with an empty header cell.
  auto r = Parse(",x,y\n0,1.5,2.5\n1,3.5,4.5\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->channel_names, ElementsAre("x", "y"));
  EXPECT_THAT(Values(*r), ElementsAre(1.5f, 2.5f, 3.5f, 4.5f));
}

TEST(CsvParserTest, DefaultColumnsSkipNonNumericOnes) {
  auto r = Parse("label,x\nwalk,1\nrun,2\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->channel_names, ElementsAre("x"));
  EXPECT_THAT(Values(*r), ElementsAre(1, 2));
}

TEST(CsvParserTest, MalformedFirstRowDoesNotChangeDefaultColumns) {
  auto r = Parse("label,x,y\n1\nwalk,oops,2\nrun,3,4\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->channel_names, ElementsAre("x", "y"));
  EXPECT_THAT(Values(*r), ElementsAre(3, 4));
  ASSERT_EQ(r->skipped.size(), 2u);
  EXPECT_EQ(r->skipped[0].reason, "expected 3 fields, got 1");
  EXPECT_EQ(r->skipped[1].reason, "field 2 (x) is not a number: 'oops'");
}

TEST(CsvParserTest, SelectsColumnsByNameAndPositionInGivenOrder) {
  CsvOptions options;
  options.columns = *ParseColumnList("z,#1");
  auto r = Parse("x,y,z\n1,2,3\n4,5,6\n", options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->channel_names, ElementsAre("z", "y"));
  EXPECT_THAT(Values(*r), ElementsAre(3, 2, 6, 5));
  options.columns = *ParseColumnList("2,0");  // Bare integers, no header.
  auto positional = Parse("1,2,3\n", options);
  ASSERT_TRUE(positional.ok()) << positional.status();
  EXPECT_THAT(Values(*positional), ElementsAre(3, 1));
}

TEST(CsvParserTest, MissingColumnNamesFileAndColumn) {
  CsvOptions options;
  options.columns = *ParseColumnList("x,gyro");
  auto r = Parse("x,y\n1,2\n", options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("f.csv"));
  EXPECT_THAT(r.status().message(), HasSubstr("'gyro' not found"));
  EXPECT_THAT(r.status().message(), HasSubstr("columns are: x, y"));
}

TEST(CsvParserTest, SkipsMalformedRowsWithLineAndReason) {
  const std::string text =
      "a,b\n"        // 1
      "1,2\n"        // 2
      "3\n"          // 3: too few fields
      "4,x5\n"       // 4: not a number
      "5,nan\n"      // 5: NaN
      "6,inf\n"      // 6: infinity
      "7,8,9\n"      // 7: too many fields
      "9,10\n";      // 8
  auto r = Parse(text);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Values(*r), ElementsAre(1, 2, 9, 10));
  EXPECT_EQ(r->rows_kept, 2);
  EXPECT_EQ(r->rows_skipped, 5);
  ASSERT_EQ(r->skipped.size(), 5u);
  EXPECT_EQ(r->skipped[0].line, 3);
  EXPECT_EQ(r->skipped[0].reason, "expected 2 fields, got 1");
  EXPECT_EQ(r->skipped[1].line, 4);
  EXPECT_EQ(r->skipped[1].reason, "field 2 (b) is not a number: 'x5'");
  EXPECT_EQ(r->skipped[2].line, 5);
  EXPECT_THAT(r->skipped[2].reason, HasSubstr("non-finite value in field 2 (b)"));
  EXPECT_EQ(r->skipped[3].line, 6);
  EXPECT_EQ(r->skipped[4].line, 7);
  EXPECT_EQ(r->skipped[4].reason, "expected 2 fields, got 3");
  EXPECT_EQ(r->skipped[0].file, "f.csv");
}

TEST(CsvParserTest, SkipsOverlongLines) {
  CsvOptions options;
  options.max_line_bytes = 16;
  auto r = Parse("a,b\n1,2\n" + std::string(10, '1') + "," + std::string(10, '2') + "\n",
                 options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->rows_kept, 1);
  ASSERT_EQ(r->skipped.size(), 1u);
  EXPECT_EQ(r->skipped[0].line, 3);
  EXPECT_EQ(r->skipped[0].reason, "line longer than 16 bytes");
}

TEST(CsvParserTest, StrictFailsOnFirstBadRowWithFileAndLine) {
  auto r = Parse("a,b\n1,2\n3,oops\n4,5\n", {}, /*strict=*/true);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("f.csv:3: field 2 (b) is not a number"));
}

TEST(CsvParserTest, EmptyAndRowlessFilesAreErrors) {
  auto empty = Parse("");
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(empty.status().message(), HasSubstr("empty file"));
  auto blank = Parse("\n  \n");
  EXPECT_FALSE(blank.ok());
  auto header_only = Parse("a,b\n");
  ASSERT_FALSE(header_only.ok());
  EXPECT_THAT(header_only.status().message(), HasSubstr("no usable data rows"));
  auto all_bad = Parse("a,b\n1\n2\n");
  ASSERT_FALSE(all_bad.ok());
  EXPECT_THAT(all_bad.status().message(), HasSubstr("2 malformed; first at line 2"));
}

TEST(CsvParserTest, UserAndSessionColumnsGroupRows) {
  CsvOptions options;
  options.user_column = *ParseColumnRef("subject");
  options.session_column = *ParseColumnRef("activity");
  options.columns = *ParseColumnList("x,y");
  auto r = Parse(
      "subject;activity;t;x;y;\n"
      "7;walk;0;1;2;\n"
      "7;walk;1;3;4;\n"
      "\"8\";run;0;5;6;\n"
      "7;walk;2;7;8;\n"
      ";walk;3;9;9;\n",
      options);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->groups.size(), 2u);
  EXPECT_EQ(r->groups[0].user, "7");
  EXPECT_EQ(r->groups[0].session, "walk");
  EXPECT_THAT(r->groups[0].values, ElementsAre(1, 2, 3, 4, 7, 8));
  EXPECT_EQ(r->groups[1].user, "8");
  EXPECT_THAT(r->groups[1].values, ElementsAre(5, 6));
  ASSERT_EQ(r->skipped.size(), 1u);
  EXPECT_EQ(r->skipped[0].reason, "empty user field");
}

TEST(CsvParserTest, ReadsFilesAndReportsUnreadableOnes) {
  testing::TempDir dir;
  std::string path = dir.WriteFile("a.csv", "a,b\n1,2\n");
  auto r = ParseCsvFile(path, {}, kLabels, false, 10);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->bytes, 8);
  auto missing = ParseCsvFile(dir.path() + "/nope.csv", {}, kLabels, false, 10);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("nope.csv"));
  if (geteuid() != 0) {  // root reads anything.
    chmod(path.c_str(), 0);
    auto denied = ParseCsvFile(path, {}, kLabels, false, 10);
    EXPECT_EQ(denied.status().code(), absl::StatusCode::kPermissionDenied);
  }
}

// Each delimiter takes the same row checks, with the same reasons and lines.
TEST(CsvParserTest, EveryDelimiterReportsTheSameBadRows) {
  for (const std::string d : {",", ";", "\t", " "}) {
    const std::string text = "a" + d + "b" + d + "c\n" +  // 1
                             "1" + d + "2" + d + "3\n" +  // 2
                             "4" + d + "x" + d + "6\n" +  // 3: not a number
                             "7" + d + "8\n" +            // 4: too few fields
                             "9" + d + "nan" + d + "1\n" +  // 5: NaN
                             "10" + d + "11" + d + "12\n";  // 6
    auto r = Parse(text);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_THAT(r->channel_names, ElementsAre("a", "b", "c")) << "'" << d << "'";
    EXPECT_THAT(Values(*r), ElementsAre(1, 2, 3, 10, 11, 12)) << "'" << d << "'";
    ASSERT_EQ(r->skipped.size(), 3u) << "'" << d << "'";
    EXPECT_EQ(r->skipped[0].line, 3);
    EXPECT_EQ(r->skipped[0].reason, "field 2 (b) is not a number: 'x'");
    EXPECT_EQ(r->skipped[1].line, 4);
    EXPECT_EQ(r->skipped[1].reason, "expected 3 fields, got 2");
    EXPECT_EQ(r->skipped[2].line, 5);
    EXPECT_EQ(r->skipped[2].reason, "non-finite value in field 2 (b)");
  }
}

TEST(CsvParserTest, AcceptsPaddedFieldsSignsAndExponents) {
  auto comma = Parse("a, b\n 1 , +2.5\n-3,\t4e2 \n.5,-0\n");
  ASSERT_TRUE(comma.ok()) << comma.status();
  EXPECT_THAT(Values(*comma), ElementsAre(1, 2.5f, -3, 400, 0.5f, 0));
  EXPECT_EQ(comma->rows_skipped, 0);
  auto tab = Parse("a\tb\n 1 \t +2 \n");
  ASSERT_TRUE(tab.ok()) << tab.status();
  EXPECT_THAT(Values(*tab), ElementsAre(1, 2));
  CsvOptions both;
  both.columns = *ParseColumnList("a,b");
  auto signs = Parse("a,b\n+-1,2\n1.5e,2\n1.2.3,2\n--1,2\n5,6\n", both);
  ASSERT_TRUE(signs.ok()) << signs.status();
  EXPECT_THAT(Values(*signs), ElementsAre(5, 6));
  ASSERT_EQ(signs->skipped.size(), 4u);
  EXPECT_EQ(signs->skipped[0].reason, "field 1 (a) is not a number: '+-1'");
  EXPECT_EQ(signs->skipped[1].reason, "field 1 (a) is not a number: '1.5e'");
  EXPECT_EQ(signs->skipped[2].reason, "field 1 (a) is not a number: '1.2.3'");
  EXPECT_EQ(signs->skipped[3].reason, "field 1 (a) is not a number: '--1'");
}

TEST(CsvParserTest, TrailingDelimiterOnlyOnce) {
  auto r = Parse("a,b\n1,2, \n3,4,,\n5,6,7\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Values(*r), ElementsAre(1, 2));
  ASSERT_EQ(r->skipped.size(), 2u);
  EXPECT_EQ(r->skipped[0].reason, "expected 2 fields, got 4");
  EXPECT_EQ(r->skipped[1].reason, "expected 2 fields, got 3");
}

TEST(CsvParserTest, HeaderlessFileWithTrailingDelimiterAndBom) {
  auto r = Parse("\xEF\xBB\xBF" "1,2,\r\n3,4,\r\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->channel_names, ElementsAre("c0", "c1"));
  EXPECT_THAT(Values(*r), ElementsAre(1, 2, 3, 4));
}

TEST(CsvParserTest, BlankLinesAreNotSkippedRowsButKeepLineNumbers) {
  auto r = Parse("a,b\n\n1,2\n   \n\r\nx,1\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->rows_kept, 1);
  EXPECT_EQ(r->rows_skipped, 1);
  ASSERT_EQ(r->skipped.size(), 1u);
  EXPECT_EQ(r->skipped[0].line, 6);
}

TEST(CsvParserTest, QuotedHeaderNamesAreUnquoted) {
  auto r = Parse("\"a\";\"b\"\n1;2\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->channel_names, ElementsAre("a", "b"));
}

TEST(CsvParserTest, BareIntegerIsAHeaderNameFirstThenAPosition) {
  CsvOptions options;
  options.columns = *ParseColumnList("3,2,#0");
  auto r = Parse("3,a,b,c\n10,11,12,13\n", options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->channel_names, ElementsAre("3", "b", "3"));  // "3" names column 0.
  EXPECT_THAT(Values(*r), ElementsAre(10, 12, 10));
}

TEST(CsvParserTest, UnnamedIndexColumnCanBeSelectedByPosition) {
  CsvOptions options;
  options.columns = *ParseColumnList("#0,x");
  auto r = Parse(",x\n7,1\n8,2\n", options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Values(*r), ElementsAre(7, 1, 8, 2));
}

TEST(CsvParserTest, InterleavedUsersInOneFileKeepFirstAppearanceOrder) {
  CsvOptions options;
  options.user_column = *ParseColumnRef("#0");
  auto r = Parse("u,x\nb,1\na,2\n b ,3\n\"a\",4\nc,5\n", options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->channel_names, ElementsAre("x"));
  ASSERT_EQ(r->groups.size(), 3u);
  EXPECT_EQ(r->groups[0].user, "b");
  EXPECT_THAT(r->groups[0].values, ElementsAre(1, 3));
  EXPECT_EQ(r->groups[1].user, "a");
  EXPECT_THAT(r->groups[1].values, ElementsAre(2, 4));
  EXPECT_EQ(r->groups[2].user, "c");
  for (const RowGroup& g : r->groups) EXPECT_EQ(g.session, "s1");  // From labels.
}

TEST(CsvParserTest, MissingUserColumnListsColumns) {
  CsvOptions options;
  options.user_column = *ParseColumnRef("subject");
  auto r = Parse("a,b\n1,2\n", options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("f.csv: user column 'subject' not found"));
  EXPECT_THAT(r.status().message(), HasSubstr("a, b"));
}

TEST(CsvParserTest, StrictFailsOnOverlongAndShortRows) {
  CsvOptions options;
  options.max_line_bytes = 8;
  auto overlong = Parse("a,b\n1,2\n123456,78\n", options, /*strict=*/true);
  ASSERT_FALSE(overlong.ok());
  EXPECT_EQ(overlong.status().message(), "f.csv:3: line longer than 8 bytes");
  auto short_row = Parse("a,b\n\n1\n", {}, /*strict=*/true);
  ASSERT_FALSE(short_row.ok());
  EXPECT_EQ(short_row.status().message(), "f.csv:3: expected 2 fields, got 1");
}

TEST(CsvParserTest, ParsesFlagValues) {
  EXPECT_EQ(*ParseDelimiter("tab"), Delimiter::kTab);
  EXPECT_EQ(*ParseDelimiter(";"), Delimiter::kSemicolon);
  EXPECT_EQ(*ParseDelimiter("space"), Delimiter::kWhitespace);
  EXPECT_FALSE(ParseDelimiter("pipe").ok());
  EXPECT_EQ(*ParseHeaderMode("no"), HeaderMode::kAbsent);
  EXPECT_FALSE(ParseHeaderMode("maybe").ok());
  EXPECT_TRUE(ParseColumnRef("#2")->is_index);
  EXPECT_FALSE(ParseColumnRef("#x").ok());
  EXPECT_FALSE(ParseColumnList("a,,b").ok());
  EXPECT_TRUE(ParseColumnList("")->empty());
}

}  // namespace
}  // namespace tripletstream
