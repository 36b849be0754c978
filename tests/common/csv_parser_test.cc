#include "common/csv_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

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

// --- Row terminators (WISDM writes "x,y,z;") ---

TEST(CsvParserTest, RowTerminatorIsDetectedOnTheFirstLine) {
  // WISDM's raw accelerometer files: user, activity, timestamp, x, y, z;
  CsvOptions options;
  options.header = HeaderMode::kAbsent;
  options.user_column = *ParseColumnRef("#0");
  options.session_column = *ParseColumnRef("#1");
  options.columns = *ParseColumnList("#3,#4,#5");
  auto r = Parse(
      "33,Jogging,49105962326000,-0.6946377,12.680544,0.50395286;\n"
      "33,Jogging,49106062271000,5.012288,11.264028,0.95342433;\n"
      "34,Walking,49106112167000,4.903325,10.882658,-0.08172209;\r\n",
      options, /*strict=*/true);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->groups.size(), 2u);
  EXPECT_EQ(r->groups[0].user, "33");
  EXPECT_EQ(r->groups[0].session, "Jogging");
  EXPECT_THAT(r->groups[0].values, ElementsAre(-0.6946377f, 12.680544f, 0.50395286f,
                                               5.012288f, 11.264028f, 0.95342433f));
  EXPECT_THAT(r->groups[1].values, ElementsAre(4.903325f, 10.882658f, -0.08172209f));
}

TEST(CsvParserTest, RowTerminatorIsDetectedOnTheFirstDataLineAfterAHeader) {
  auto r = Parse("x,y,z\n1,2,3;\n4,5,6 ; \n7,8,9\n", {}, /*strict=*/true);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->channel_names, ElementsAre("x", "y", "z"));
  // The terminator is optional on each row.
  EXPECT_THAT(Values(*r), ElementsAre(1, 2, 3, 4, 5, 6, 7, 8, 9));
}

TEST(CsvParserTest, HeaderlessNumericRowsWithTerminatorAreNotTakenForAHeader) {
  auto r = Parse("1.5,2,3;\n4,5,6;\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->channel_names, ElementsAre("c0", "c1", "c2"));
  EXPECT_THAT(Values(*r), ElementsAre(1.5f, 2, 3, 4, 5, 6));
}

TEST(CsvParserTest, RowTerminatorWithTabOrSpaceDelimiters) {
  auto tab = Parse("1\t2;\n3\t4;\n");  // The ';' must not outvote the one tab.
  ASSERT_TRUE(tab.ok()) << tab.status();
  EXPECT_THAT(tab->channel_names, ElementsAre("c0", "c1"));
  EXPECT_THAT(Values(*tab), ElementsAre(1, 2, 3, 4));
  auto spaces = Parse("1 2 3;\n4 5 6;\n");
  ASSERT_TRUE(spaces.ok()) << spaces.status();
  EXPECT_THAT(Values(*spaces), ElementsAre(1, 2, 3, 4, 5, 6));
}

TEST(CsvParserTest, SemicolonDelimitedFilesAreUnchangedByTerminatorDetection) {
  auto trailing = Parse("a;b;\n1;2;\n3;4\n");
  ASSERT_TRUE(trailing.ok()) << trailing.status();
  EXPECT_THAT(trailing->channel_names, ElementsAre("a", "b"));
  EXPECT_THAT(Values(*trailing), ElementsAre(1, 2, 3, 4));
  auto one_column = Parse("x;\n1.5;\n2;\n");
  ASSERT_TRUE(one_column.ok()) << one_column.status();
  EXPECT_THAT(one_column->channel_names, ElementsAre("x"));
  EXPECT_THAT(Values(*one_column), ElementsAre(1.5f, 2));
  // A comma in a semicolon file is a decimal comma, not a delimiter.
  auto decimal_comma = Parse("a;b;\n1,5;2;\n3;4;\n");
  ASSERT_TRUE(decimal_comma.ok()) << decimal_comma.status();
  EXPECT_THAT(Values(*decimal_comma), ElementsAre(3, 4));
  ASSERT_EQ(decimal_comma->skipped.size(), 1u);
  EXPECT_EQ(decimal_comma->skipped[0].reason, "field 1 (a) is not a number: '1,5'");
  // Explicit semicolon delimiter with terminator mode semicolon: still one
  // trailing delimiter, not two.
  CsvOptions options;
  options.delimiter = Delimiter::kSemicolon;
  options.row_terminator = RowTerminator::kSemicolon;
  auto forced = Parse("a;b\n1;2;\n3;4;;\n", options);
  ASSERT_TRUE(forced.ok()) << forced.status();
  EXPECT_THAT(Values(*forced), ElementsAre(1, 2));
  ASSERT_EQ(forced->skipped.size(), 1u);
  EXPECT_EQ(forced->skipped[0].reason, "expected 2 fields, got 4");
}

TEST(CsvParserTest, RowTerminatorOnlyOnceAndAfterATrailingDelimiter) {
  auto r = Parse("a,b\n1,2,;\n3,4;;\n5,6\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Values(*r), ElementsAre(1, 2, 5, 6));
  ASSERT_EQ(r->skipped.size(), 1u);
  EXPECT_EQ(r->skipped[0].line, 3);
  EXPECT_EQ(r->skipped[0].reason, "field 2 (b) is not a number: '4;'");
}

TEST(CsvParserTest, RowTerminatorModeNoneAndSemicolonOverrideDetection) {
  CsvOptions none;
  none.row_terminator = RowTerminator::kNone;
  none.columns = *ParseColumnList("a,b");
  auto off = Parse("a,b\n1,2;\n3,4\n", none);
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_THAT(Values(*off), ElementsAre(3, 4));
  ASSERT_EQ(off->skipped.size(), 1u);
  EXPECT_EQ(off->skipped[0].reason, "field 2 (b) is not a number: '2;'");
  // Forced: the first data row has no terminator, later ones do.
  CsvOptions semicolon;
  semicolon.row_terminator = RowTerminator::kSemicolon;
  auto on = Parse("a,b\n1,2\n3,4;\n", semicolon, /*strict=*/true);
  ASSERT_TRUE(on.ok()) << on.status();
  EXPECT_THAT(Values(*on), ElementsAre(1, 2, 3, 4));
}

TEST(CsvParserTest, ParsesRowTerminatorFlagValues) {
  EXPECT_EQ(*ParseRowTerminator("auto"), RowTerminator::kAuto);
  EXPECT_EQ(*ParseRowTerminator("none"), RowTerminator::kNone);
  EXPECT_EQ(*ParseRowTerminator(";"), RowTerminator::kSemicolon);
  EXPECT_EQ(*ParseRowTerminator("Semicolon"), RowTerminator::kSemicolon);
  auto bad = ParseRowTerminator("|");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("--row_terminator"));
}

// --- Quoted fields (RFC 4180) ---

TEST(CsvParserTest, QuotedNumbersAreParsed) {
  auto r = Parse("\"a\",\"b\",label\n\"1.5\",\"2\",x\n \"-3e1\" ,4,\"y\"\n", {},
                 /*strict=*/true);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->channel_names, ElementsAre("a", "b"));
  EXPECT_THAT(Values(*r), ElementsAre(1.5f, 2, -30, 4));
}

TEST(CsvParserTest, FullyQuotedFileWithoutHeaderIsNumeric) {
  auto r = Parse("\"1\";\"2\"\n\"3\";\"4\"\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->channel_names, ElementsAre("c0", "c1"));
  EXPECT_THAT(Values(*r), ElementsAre(1, 2, 3, 4));
}

TEST(CsvParserTest, QuotedFieldsMayHoldTheDelimiter) {
  CsvOptions options;
  options.user_column = *ParseColumnRef("who");
  auto r = Parse(
      "\"who\",\"acc, x\",\"acc, y\"\n"
      "\"Smith, J\",1,2\n"
      "\"Doe, \"\"JD\"\"\",3,\"4\"\n",
      options, /*strict=*/true);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->channel_names, ElementsAre("acc, x", "acc, y"));
  ASSERT_EQ(r->groups.size(), 2u);
  EXPECT_EQ(r->groups[0].user, "Smith, J");
  EXPECT_THAT(r->groups[0].values, ElementsAre(1, 2));
  EXPECT_EQ(r->groups[1].user, "Doe, \"JD\"");
  EXPECT_THAT(r->groups[1].values, ElementsAre(3, 4));
}

TEST(CsvParserTest, DoubledQuotesAndUnclosedQuotesAreNotNumbers) {
  CsvOptions options;
  options.columns = *ParseColumnList("#0,b");
  auto r = Parse("\"a\"\"\",b\n\"1\"\"\",2\n\"3,4\n\"5\"x,6\n7,8\n", options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->channel_names, ElementsAre("a\"", "b"));
  EXPECT_THAT(Values(*r), ElementsAre(7, 8));
  ASSERT_EQ(r->skipped.size(), 3u);
  EXPECT_EQ(r->skipped[0].reason, "field 1 (a\") is not a number: '\"1\"\"\"'");
  EXPECT_EQ(r->skipped[1].reason, "field 1 (a\") is not a number: '\"3'");
  EXPECT_EQ(r->skipped[2].reason, "field 1 (a\") is not a number: '\"5\"x'");
}

TEST(CsvParserTest, NoNumericColumnErrorShowsDelimiterAndARow) {
  // Decimal commas in a semicolon file: no column parses.
  auto r = Parse("a;b\n1,5;2,5\n3,5;4,5\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("f.csv: no numeric value columns"));
  EXPECT_THAT(r.status().message(), HasSubstr("semicolon-delimited (detected)"));
  EXPECT_THAT(r.status().message(), HasSubstr("line 2 is '1,5;2,5'"));
  EXPECT_THAT(r.status().message(), HasSubstr("--delimiter"));
}

// --- Reading files in bounded chunks ---

// A file exercising every line-level feature, with a user column so that
// rows go to several groups.
std::string AwkwardFile() {
  std::string text = "\xEF\xBB\xBF" "u,\"x\",y,\r\n";
  for (int i = 0; i < 200; ++i) {
    switch (i % 9) {
      case 0: text += "a," + std::to_string(i) + ",1.5,\r\n"; break;
      case 1: text += "\n   \n"; break;
      case 2: text += "\"b, c\",\"" + std::to_string(i) + "\",-2e3\n"; break;
      case 3: text += "a,oops," + std::to_string(i) + "\n"; break;
      case 4: text += "a,1\n"; break;
      case 5: text += "a," + std::string(300, '7') + ",1\n"; break;  // Over 256 bytes.
      case 6: text += std::string(5000, ' ') + "\n"; break;  // Long but blank.
      case 7: text += "b,nan,1\n"; break;
      default: text += "c, " + std::to_string(i) + " ,+4\n"; break;
    }
  }
  return text + "a,9,9";  // No final newline.
}

void ExpectSameResult(const CsvFileResult& a, const CsvFileResult& b,
                      const std::string& what) {
  EXPECT_EQ(a.channel_names, b.channel_names) << what;
  EXPECT_EQ(a.rows_kept, b.rows_kept) << what;
  EXPECT_EQ(a.rows_skipped, b.rows_skipped) << what;
  EXPECT_EQ(a.bytes, b.bytes) << what;
  ASSERT_EQ(a.groups.size(), b.groups.size()) << what;
  for (size_t g = 0; g < a.groups.size(); ++g) {
    EXPECT_EQ(a.groups[g].user, b.groups[g].user) << what;
    EXPECT_EQ(a.groups[g].values, b.groups[g].values) << what;
  }
  ASSERT_EQ(a.skipped.size(), b.skipped.size()) << what;
  for (size_t i = 0; i < a.skipped.size(); ++i) {
    EXPECT_EQ(a.skipped[i].line, b.skipped[i].line) << what;
    EXPECT_EQ(a.skipped[i].reason, b.skipped[i].reason) << what;
  }
}

TEST(CsvParserTest, ChunkedFileReadsGiveTheSameResultAsMemory) {
  testing::TempDir dir;
  const std::string text = AwkwardFile();
  const std::string path = dir.WriteFile("f.csv", text);
  CsvOptions options;
  options.user_column = *ParseColumnRef("u");
  options.max_line_bytes = 256;
  auto memory = ParseCsvBuffer(text, path, options, kLabels, false, 1000);
  ASSERT_TRUE(memory.ok()) << memory.status();
  EXPECT_EQ(memory->groups.size(), 3u);
  EXPECT_GT(memory->rows_skipped, 50);
  for (int64_t chunk : {1, 2, 3, 7, 64, 255, 4096, 1 << 20}) {
    options.read_chunk_bytes = chunk;
    auto file = ParseCsvFile(path, options, kLabels, false, 1000);
    ASSERT_TRUE(file.ok()) << file.status() << " chunk " << chunk;
    ExpectSameResult(*memory, *file, "chunk " + std::to_string(chunk));
  }
}

TEST(CsvParserTest, ChunkedReadsOfAOneGroupFileGiveTheSameValues) {
  // The one-group case reserves from an estimate when the file is larger
  // than a chunk; the values must not depend on it.
  testing::TempDir dir;
  std::string text = "x,y,z\n";
  for (int i = 0; i < 5000; ++i) {
    text += std::to_string(i) + "," + std::string(i % 13, '0') + "1.25," +
            std::to_string(-i) + "e-3\n";
  }
  const std::string path = dir.WriteFile("f.csv", text);
  auto memory = ParseCsvBuffer(text, path, {}, kLabels, true, 10);
  ASSERT_TRUE(memory.ok()) << memory.status();
  ASSERT_EQ(memory->rows_kept, 5000);
  for (int64_t chunk : {5, 100, 4096, 1 << 20}) {
    CsvOptions options;
    options.read_chunk_bytes = chunk;
    auto file = ParseCsvFile(path, options, kLabels, true, 10);
    ASSERT_TRUE(file.ok()) << file.status() << " chunk " << chunk;
    ExpectSameResult(*memory, *file, "chunk " + std::to_string(chunk));
  }
}

TEST(CsvParserTest, LinesOverTheHoldLimitAreSkippedWithoutBeingKept) {
  // 3 MiB lines are longer than any line the reader holds (1 MiB); they are
  // counted as over-long rows at their line number, or as blank lines.
  testing::TempDir dir;
  const std::string text = "a,b\n1,2\n" + std::string(3 << 20, '9') + "\n3,4\n" +
                           std::string(3 << 20, ' ') + "\r\n5,6\n" +
                           std::string(3 << 20, '8');
  const std::string path = dir.WriteFile("f.csv", text);
  CsvOptions options;
  options.read_chunk_bytes = 4096;
  auto r = ParseCsvFile(path, options, kLabels, false, 10);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Values(*r), ElementsAre(1, 2, 3, 4, 5, 6));
  ASSERT_EQ(r->skipped.size(), 2u);
  EXPECT_EQ(r->skipped[0].line, 3);
  EXPECT_EQ(r->skipped[0].reason, "line longer than 65536 bytes");
  EXPECT_EQ(r->skipped[1].line, 7);
  EXPECT_EQ(r->bytes, static_cast<int64_t>(text.size()));
  auto memory = ParseCsvBuffer(text, path, options, kLabels, false, 10);
  ASSERT_TRUE(memory.ok()) << memory.status();
  ExpectSameResult(*memory, *r, "memory");
}

TEST(CsvParserTest, FirstLineOverTheHeaderLimitIsRefusedByName) {
  testing::TempDir dir;
  const std::string path = dir.WriteFile("blob.csv", std::string(2 << 20, 'x') + "\n1\n");
  auto r = ParseCsvFile(path, {}, kLabels, false, 10);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(),
              HasSubstr("blob.csv:1: first line longer than 1048576 bytes"));
}

// Writes a header and `rows` short rows, then extends the file with a hole
// to `size` bytes (sparse: takes no disk). False where the file system
// cannot.
bool WriteSparseCsv(const std::string& path, int rows, off_t size) {
  {
    std::ofstream out(path, std::ios::binary);
    out << "x,y\n";
    for (int i = 0; i < rows; ++i) out << "1.5,2.5\n";
  }
  return truncate(path.c_str(), size) == 0;
}

TEST(CsvParserTest, FileWhoseValuesCannotFitInMemoryIsRefusedByName) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/huge.csv";
  // 8 TiB at 8 bytes a row would be 8 TiB of floats.
  if (!WriteSparseCsv(path, 100, off_t{1} << 43)) {
    GTEST_SKIP() << "no sparse 8 TiB files on this file system";
  }
  auto r = ParseCsvFile(path, {}, kLabels, false, 10);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(r.status().message(), HasSubstr(path + ":2: about "));
  EXPECT_THAT(r.status().message(), HasSubstr("MB of memory of this machine"));
}

TEST(CsvParserTest, OutOfMemoryIsAnErrorNamingTheFileNotACrash) {
  // Under an address-space limit, reading a 2 GiB file runs out of memory
  // (it used to throw std::bad_alloc out of the parser and abort); it must
  // come back as RESOURCE_EXHAUSTED naming the file. In a child process, so
  // the limit does not outlive the test.
  testing::TempDir dir;
  const std::string path = dir.path() + "/big.csv";
  if (!WriteSparseCsv(path, 100, off_t{2} << 30)) GTEST_SKIP() << "no sparse files";
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // The sanitizers' operator new reports and aborts when the allocator runs
  // dry instead of throwing std::bad_alloc, and their shadow memory does not
  // fit an address-space limit: this test only means something without them.
  GTEST_SKIP() << "sanitizer build: out-of-memory aborts instead of throwing";
#endif
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto child = [&path] {
    long pages = 0;
    if (FILE* statm = std::fopen("/proc/self/statm", "r")) {
      if (std::fscanf(statm, "%ld", &pages) != 1) pages = 0;
      std::fclose(statm);
    }
    if (pages <= 0) _exit(3);
    const rlim_t limit = static_cast<rlim_t>(pages) * sysconf(_SC_PAGESIZE) + (256 << 20);
    struct rlimit rl = {limit, limit};
    if (setrlimit(RLIMIT_AS, &rl) != 0) _exit(3);
    auto r = ParseCsvFile(path, {}, kLabels, false, 10);
    if (r.ok()) _exit(4);
    std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
    const bool named = r.status().message().find(path) == 0;
    _exit(r.status().code() == absl::StatusCode::kResourceExhausted && named ? 0 : 5);
  };
  EXPECT_EXIT(child(), ::testing::ExitedWithCode(0), "RESOURCE_EXHAUSTED: .*big.csv");
}

}  // namespace
}  // namespace tripletstream
