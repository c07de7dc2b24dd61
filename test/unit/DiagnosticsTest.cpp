// Unit tests of the pieces of diagnostics that lit cannot reach directly:
// offset-to-position mapping, suggestion ranking, limits and rendering.
#include "diagnostics/Diagnostics.h"

#include <gtest/gtest.h>

#include <sstream>

namespace mlc {
namespace {

TEST(SourceManager, PositionsAreOneBasedBytes) {
  SourceManager sm;
  FileId f = sm.add("a.mlp", "ab\ncd\r\nef");
  EXPECT_EQ(sm.position(f, 0).line, 1u);
  EXPECT_EQ(sm.position(f, 1).column, 2u);
  EXPECT_EQ(sm.position(f, 3).line, 2u);
  EXPECT_EQ(sm.position(f, 3).column, 1u);
  EXPECT_EQ(sm.position(f, 7).line, 3u);
  EXPECT_EQ(sm.lineText(f, 4), "cd");  // the \r of a CRLF line is not shown
  EXPECT_EQ(sm.lineText(f, 8), "ef");
}

TEST(SourceManager, RefusesMissingFilesAndDirectories) {
  SourceManager sm;
  std::string error;
  EXPECT_EQ(sm.load("/nonexistent/x.mlp", error), 0u);
  EXPECT_EQ(error, "No such file or directory");
  EXPECT_EQ(sm.load("/tmp", error), 0u);
  EXPECT_EQ(error, "is a directory");
}

TEST(ClosestMatch, PrefersSmallestEditDistance) {
  EXPECT_EQ(closestMatch("epoch", {"epochs", "batch", "seed"}), "epochs");
  EXPECT_EQ(closestMatch("val.acuracy", {"val.loss", "val.accuracy"}), "val.accuracy");
  EXPECT_EQ(closestMatch("zzzzzz", {"epochs", "batch"}), "");
  EXPECT_EQ(closestMatch("batch", {"batch"}), "");  // an exact name is no suggestion
}

TEST(Diagnostics, ErrorLimitStopsAndSaysSo) {
  SourceManager sm;
  FileId f = sm.add("a.mlp", "x y z");
  Diagnostics d(sm);
  d.setErrorLimit(2);
  d.report(Diag::UnknownName, {f, 0, 1}, "x");
  d.report(Diag::UnknownName, {f, 2, 3}, "y");
  d.report(Diag::UnknownName, {f, 4, 5}, "z");
  ASSERT_EQ(d.all().size(), 3u);
  EXPECT_EQ(d.errorCount(), 2u);
  EXPECT_EQ(d.all()[2].id, Diag::TooManyErrors);
}

TEST(Diagnostics, IdenticalReportsAreMerged) {
  SourceManager sm;
  FileId f = sm.add("a.mlp", "x");
  Diagnostics d(sm);
  d.report(Diag::UnknownName, {f, 0, 1}, "x");
  d.report(Diag::UnknownName, {f, 0, 1}, "x");
  EXPECT_EQ(d.all().size(), 1u);
  EXPECT_EQ(d.errorCount(), 1u);
}

TEST(Diagnostics, LongLinesAreShownAsAWindowAroundTheCaret) {
  SourceManager sm;
  std::string line(5000, 'a');
  line[4000] = '$';
  FileId f = sm.add("a.mlp", line);
  Diagnostics d(sm);
  d.report(Diag::UnexpectedChar, {f, 4000, 4001}, "$");
  std::ostringstream out;
  d.renderText(out, false);
  std::string text = out.str();
  std::string snippet = text.substr(text.find('\n') + 1);
  snippet = snippet.substr(0, snippet.find('\n'));
  EXPECT_EQ(snippet.size(), 126u);  // "..." + 120 bytes + "..."
  EXPECT_EQ(snippet.substr(0, 3), "...");
  std::string caret = text.substr(text.find('\n') + 1 + snippet.size() + 1);
  caret = caret.substr(0, caret.find('\n'));
  EXPECT_EQ(snippet[caret.find('^')], '$');
}

TEST(Diagnostics, EveryKindHasAUniqueCode) {
  auto all = allDiagnostics();
  std::set<std::string> codes;
  for (const DiagInfo &i : all) {
    EXPECT_TRUE(codes.insert(i.code).second) << i.code;
    std::string format = i.format;
    EXPECT_NE(format.back(), '.') << i.code << ": messages end without a period";
    EXPECT_FALSE(std::isupper(static_cast<unsigned char>(format[0])) && format.rfind("NUL", 0) != 0)
        << i.code << ": messages start lowercase";
  }
}

}  // namespace
}  // namespace mlc
