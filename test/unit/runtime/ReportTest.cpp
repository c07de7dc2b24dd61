// The study report: parameter importance on studies whose variance shares
// are known exactly, the header's counts, escaping, a page that loads
// nothing, edge cases that must not put nan or inf into the SVG, and the
// page read back by test/tools/check_report.py (well-formed XML and SVG
// structure; then headless Chromium where it is installed).
#include "src/tune/Report.h"

#include "TestDir.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <regex>

#ifndef MLC_PYTHON
#define MLC_PYTHON "python3"
#endif

namespace mlcrt::tune {
namespace {

namespace fs = std::filesystem;

Dim uniform(std::string path, double low, double high) {
  Dim d;
  d.path = std::move(path);
  d.low = low, d.high = high;
  return d;
}

Dim logUniform(std::string path, double low, double high) {
  Dim d = uniform(std::move(path), low, high);
  d.kind = Dim::LogUniform;
  return d;
}

Dim choice(std::string path, std::vector<std::string> choices) {
  Dim d;
  d.path = std::move(path);
  d.kind = Dim::Choice;
  d.choices = std::move(choices);
  return d;
}

Trial trial(int number, TrialState state, Params params, std::optional<double> value) {
  Trial t;
  t.number = number;
  t.state = state;
  t.params = std::move(params);
  t.value = value;
  t.attempts = 1;
  t.run = "run-" + std::to_string(number);
  return t;
}

void add(Study &s, TrialState state, Params params, std::optional<double> value) {
  s.trials.push_back(trial(int(s.trials.size()), state, std::move(params), value));
}

Study study(std::vector<Dim> dims) {
  Study s;
  s.name = "sweep";
  s.objective = "val.loss";
  s.space.dims = std::move(dims);
  return s;
}

double importanceOf(const std::vector<std::pair<std::string, double>> &imp, const std::string &name) {
  for (const auto &[n, v] : imp)
    if (n == name) return v;
  ADD_FAILURE() << "no importance for " << name;
  return -1;
}

// A nan or inf inside a numeric SVG attribute (text content may say "nan":
// the table shows such values as they are).
bool nonFiniteAttribute(const std::string &html) {
  static const std::regex bad(
      R"re(\b(x|y|x1|y1|x2|y2|cx|cy|r|width|height|points|d|viewBox|transform|offset)="[^"]*(nan|inf))re",
      std::regex::icase);
  return std::regex_search(html, bad);
}

size_t count(const std::string &haystack, const std::string &needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

// The study the page tests share: 3 parameters (a log-uniform lr, a choice
// and a uniform active only for one choice), 30 trials complete, pruned,
// failed and running (none waiting), with
// learning curves. Deterministic without a random engine.
Study sampleStudy() {
  Dim momentum = uniform("optimizer.momentum", 0, 0.99);
  momentum.parent = 1;
  momentum.when = {"sgd"};
  Study s = study({logUniform("optimizer.lr", 1e-5, 1e-1), choice("optimizer.kind", {"sgd", "adam"}), momentum});
  for (int i = 0; i < 30; ++i) {
    double f = std::fmod(i * 0.6180339887, 1.0), g = std::fmod(i * 0.4142135623, 1.0);
    double lr = std::pow(10, -5 + 4 * f);
    int kind = i % 3 == 0 ? 1 : 0;
    double final = 0.1 + 0.05 * std::pow(std::log10(lr) + 3, 2) + (kind == 0 ? 0.1 * (1 - g) : 0.05);
    TrialState state = i % 9 == 5 ? TrialState::Failed
                       : i >= 28   ? TrialState::Running
                       : i > 6 && final > 0.3 ? TrialState::Pruned
                                              : TrialState::Complete;
    Trial t = trial(i, state, {lr, double(kind), kind == 0 ? std::optional<double>(0.99 * g) : std::nullopt}, {});
    int epochs = state == TrialState::Complete ? 20 : state == TrialState::Failed ? 2 : 4 + i % 5;
    for (int e = 1; e <= epochs; ++e) t.intermediate[e] = final + 1.5 * std::exp(-0.35 * e);
    t.budget = epochs;
    if (state == TrialState::Complete || state == TrialState::Pruned) t.value = t.intermediate.rbegin()->second;
    if (state == TrialState::Failed) t.error = "RuntimeError: CUDA out of memory\n  at step 12";
    s.trials.push_back(t);
  }
  return s;
}

ReportInfo sampleInfo() { return {"MLP on digits", "epochs", "tpe(seed=1)", "median(warmup=3)", {{"workers", "4"}}}; }

// Objective = x on a 3 × 3 grid: y's bins all have the same mean.
TEST(ParameterImportance, AParameterTheObjectiveIgnoresGetsNothing) {
  Study s = study({uniform("x", 1, 3), uniform("y", 1, 3)});
  for (int x = 1; x <= 3; ++x)
    for (int y = 1; y <= 3; ++y) add(s, TrialState::Complete, {double(x), double(y)}, double(x));
  auto imp = parameterImportance(s);
  ASSERT_EQ(imp.size(), 2u);
  EXPECT_EQ(imp[0], std::make_pair(std::string("x"), 1.0));
  EXPECT_EQ(imp[1], std::make_pair(std::string("y"), 0.0));
}

// Objective = 2·x + y over a replicated full grid, x in {0, 1} (a choice),
// y in {0, 1, 2}: the main effects' variances are 1 and 2/3, so the shares
// are 0.6 and 0.4.
TEST(ParameterImportance, AdditiveObjectiveSplitsByVarianceShare) {
  Dim y = uniform("y", 0, 2);
  y.kind = Dim::Int;
  Study s = study({y, choice("x", {"a", "b"})});
  for (int rep = 0; rep < 2; ++rep)
    for (int x = 0; x < 2; ++x)
      for (int v = 0; v < 3; ++v) add(s, TrialState::Complete, {double(v), double(x)}, 2.0 * x + v);
  auto imp = parameterImportance(s);
  ASSERT_EQ(imp.size(), 2u);
  EXPECT_EQ(imp[0].first, "x");  // sorted by importance
  EXPECT_NEAR(imp[0].second, 0.6, 1e-12);
  EXPECT_EQ(imp[1].first, "y");
  EXPECT_NEAR(imp[1].second, 0.4, 1e-12);
}

// A log-uniform parameter, binned by quantile: ten values, three trials
// each, so each bin holds one value and the objective (log10 lr) is
// explained in full; a parameter that never varies explains nothing.
TEST(ParameterImportance, LogParameterAndAConstantOne) {
  Study s = study({uniform("constant", 0, 1), logUniform("lr", 1e-6, 1e-1)});
  for (int rep = 0; rep < 3; ++rep)
    for (int k = 0; k < 10; ++k) add(s, TrialState::Complete, {0.5, std::pow(10, -6 + 0.5 * k)}, -6 + 0.5 * k);
  auto imp = parameterImportance(s);
  EXPECT_EQ(imp[0].first, "lr");
  EXPECT_DOUBLE_EQ(imp[0].second, 1.0);
  EXPECT_EQ(imp[1], std::make_pair(std::string("constant"), 0.0));
}

// Only complete trials with a finite objective count, and a conditional
// parameter only where it is active (a stale value on an inactive trial is
// ignored). Among sgd trials objective = momentum; adam trials sit at the
// sgd trials' mean, so the optimizer explains nothing and momentum all.
TEST(ParameterImportance, SkipsInactiveUnfinishedAndNonFiniteTrials) {
  Dim momentum = uniform("momentum", 0, 1);
  momentum.parent = 0;
  momentum.when = {"sgd"};
  Study s = study({choice("optimizer", {"sgd", "adam"}), momentum});
  for (int k = 1; k <= 6; ++k) add(s, TrialState::Complete, {0.0, k / 10.0}, k / 10.0);
  for (int k = 1; k <= 6; ++k) add(s, TrialState::Complete, {1.0, 0.9}, 0.35);
  auto clean = parameterImportance(s);
  EXPECT_NEAR(importanceOf(clean, "momentum"), 1.0, 1e-9);
  EXPECT_NEAR(importanceOf(clean, "optimizer"), 0.0, 1e-9);

  add(s, TrialState::Pruned, {0.0, 0.05}, 100.0);
  add(s, TrialState::Failed, {1.0, std::nullopt}, std::nullopt);
  add(s, TrialState::Running, {0.0, 0.5}, std::nullopt);
  add(s, TrialState::Complete, {0.0, 0.7}, std::numeric_limits<double>::quiet_NaN());
  add(s, TrialState::Complete, {1.0, std::nullopt}, std::numeric_limits<double>::infinity());
  EXPECT_EQ(parameterImportance(s), clean);
}

TEST(ParameterImportance, AllZeroWhenNothingVaries) {
  Study s = study({uniform("x", 0, 1), choice("c", {"a", "b"})});
  EXPECT_EQ(parameterImportance(s), (std::vector<std::pair<std::string, double>>{{"x", 0}, {"c", 0}}));
  for (int i = 0; i < 12; ++i) add(s, TrialState::Complete, {i / 12.0, double(i % 2)}, 1.5);
  EXPECT_EQ(parameterImportance(s), (std::vector<std::pair<std::string, double>>{{"x", 0}, {"c", 0}}));
  EXPECT_TRUE(parameterImportance(study({})).empty());
}

class ReportTest : public mlcrt::test::TempDirTest {
protected:
  // check_report.py on `html` with `flags`: its exit status, output in `out`.
  int checkReport(const std::string &html, const std::string &flags, std::string &out) {
    fs::path file = dir_ / "report.html";
    std::ofstream(file) << html;
    fs::path script = fs::path(MLC_TEST_TOOLS) / "check_report.py";
    std::string command =
        std::string(MLC_PYTHON) + " '" + script.string() + "' " + flags + " '" + file.string() + "' 2>&1";
    FILE *p = ::popen(command.c_str(), "r");
    if (!p) return -1;
    out.clear();
    char buffer[4096];
    for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, p)) > 0;) out.append(buffer, n);
    int status = ::pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
};

TEST_F(ReportTest, HeaderCountsTrialsByState) {
  Study s = study({uniform("x", 0, 1)});
  for (TrialState st : {TrialState::Complete, TrialState::Complete, TrialState::Complete, TrialState::Pruned,
                        TrialState::Pruned, TrialState::Failed, TrialState::Running})
    add(s, st, {0.5}, st == TrialState::Complete || st == TrialState::Pruned ? std::optional<double>(1.0)
                                                                             : std::nullopt);
  std::string html = renderReport(s, sampleInfo());
  EXPECT_NE(html.find("3 complete, 2 pruned, 1 failed, 1 running (7 in all)"), std::string::npos);
  EXPECT_EQ(html.find("waiting ("), std::string::npos);
  add(s, TrialState::Waiting, {0.5}, std::nullopt);
  html = renderReport(s, sampleInfo());
  EXPECT_NE(html.find("3 complete, 2 pruned, 1 failed, 1 running, 1 waiting (8 in all)"), std::string::npos);
  EXPECT_NE(html.find("<th>Objective</th><td>val.loss, minimize</td>"), std::string::npos);
  EXPECT_NE(html.find("<th>Pruner</th><td>median(warmup=3)</td>"), std::string::npos);
  EXPECT_NE(html.find("<th>workers</th><td>4</td>"), std::string::npos);
  EXPECT_NE(html.find("<th>Best trial</th><td>#0: val.loss = 1<br/>x = 0.5</td>"), std::string::npos);
}

TEST_F(ReportTest, EscapesEverythingFromTheData) {
  Study s = study({choice("model<kind>", {"<mlp>", "a&b"})});
  s.objective = "val.\"loss\"";
  add(s, TrialState::Complete, {0.0}, 1.0);
  add(s, TrialState::Failed, {1.0}, std::nullopt);
  s.trials[0].run = "<script>alert(1)</script>";
  s.trials[1].error = "<b>boom</b> & 'quotes'\n\x1b[31mred\x1b[0m";
  ReportInfo info = sampleInfo();
  info.title = "A & B <i>";
  info.extra = {{"<key>", "<value>"}};
  std::string html = renderReport(s, info);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_EQ(html.find("<b>"), std::string::npos);
  EXPECT_NE(html.find("&lt;b&gt;boom&lt;/b&gt; &amp; &#39;quotes&#39;"), std::string::npos);
  EXPECT_EQ(html.find('\x1b'), std::string::npos);  // not allowed in XML
  EXPECT_NE(html.find("<h1>A &amp; B &lt;i&gt;</h1>"), std::string::npos);
  EXPECT_NE(html.find("<th>&lt;key&gt;</th><td>&lt;value&gt;</td>"), std::string::npos);
  EXPECT_NE(html.find("model&lt;kind&gt;"), std::string::npos);
  EXPECT_NE(html.find("&lt;mlp&gt;"), std::string::npos);
  EXPECT_NE(html.find("val.&quot;loss&quot;"), std::string::npos);
  EXPECT_EQ(html.find("<i>"), std::string::npos);
  EXPECT_EQ(html.find("<mlp>"), std::string::npos);
  std::string out;
  EXPECT_EQ(checkReport(html, "--static", out), 0) << out;
}

// A log's bytes need not be UTF-8: invalid sequences become U+FFFD, valid
// ones stay, and the page still parses.
TEST_F(ReportTest, InvalidUtf8BecomesReplacementCharacters) {
  Study s = study({uniform("x", 0, 1)});
  add(s, TrialState::Failed, {0.5}, std::nullopt);
  s.trials[0].error = "caf\xC3\xA9 \xE2\x86\x92 \xFF\xFE \xED\xA0\x80 \xC0\xAF \xF4\x90\x80\x80 \xE2\x82";
  std::string html = renderReport(s, sampleInfo());
  EXPECT_NE(html.find("<pre>caf\xC3\xA9 \xE2\x86\x92 \xEF\xBF\xBD\xEF\xBF\xBD "), std::string::npos);
  EXPECT_EQ(html.find('\xFF'), std::string::npos);
  EXPECT_EQ(html.find("\xED\xA0"), std::string::npos);
  std::string out;
  EXPECT_EQ(checkReport(html, "--static", out), 0) << out;
}

TEST_F(ReportTest, LoadsNothingFromAnywhere) {
  std::string html = renderReport(sampleStudy(), sampleInfo());
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_FALSE(std::regex_search(html, std::regex(R"((src|href)\s*=\s*["']?//)")));
  EXPECT_FALSE(std::regex_search(html, std::regex(R"(url\(\s*["']?[^#"'\s])")));
  for (const char *loader :
       {"<script", "<link", "<img", "<iframe", "<object", "<embed", "<image", "@import", "@font-face"})
    EXPECT_EQ(html.find(loader), std::string::npos) << loader;
}

TEST_F(ReportTest, EveryPlotIsLabelledForScreenReaders) {
  std::string html = renderReport(sampleStudy(), sampleInfo());
  EXPECT_EQ(count(html, "<svg "), 4u);
  EXPECT_EQ(count(html, "role=\"img\" aria-label=\""), 4u);
  EXPECT_NE(html.find("aria-label=\"Optimisation history: val.loss by trial number\"><title>Optimisation history: "
                      "val.loss by trial number</title>"),
            std::string::npos);
  for (const char *id : {"summary", "history", "parallel", "importance", "curves", "trials"})
    EXPECT_NE(html.find(std::string("id=\"") + id + "\""), std::string::npos) << id;
}

TEST_F(ReportTest, PrunedTrialsAreMarkedAndFailedOnesListed) {
  Study s = sampleStudy();
  std::string html = renderReport(s, sampleInfo());
  size_t pruned = 0, failed = 0;
  for (const Trial &t : s.trials) pruned += t.state == TrialState::Pruned, failed += t.state == TrialState::Failed;
  ASSERT_GT(pruned, 0u);
  // One × in the history and one where its learning curve stops, plus the legends' samples.
  EXPECT_EQ(count(html, "<path class=\"pruned-mark\""), 2 * pruned + 2);
  EXPECT_EQ(count(html, "<polyline class=\"curve-pruned\""), pruned);
  EXPECT_EQ(count(html, "<polyline class=\"curve-best\""), 1u);
  EXPECT_EQ(count(html, "<line class=\"curve-best\""), 1u);  // the legend's sample
  EXPECT_NE(html.find("Failed, not plotted: #5, #14, #23."), std::string::npos);
  EXPECT_EQ(failed, 3u);
}

// One polyline per complete trial; an inactive conditional parameter drops
// its point, so the line goes straight from the parent's axis onwards.
TEST_F(ReportTest, ParallelCoordinatesSkipInactiveAxes) {
  Study s = sampleStudy();
  std::string html = renderReport(s, sampleInfo());
  std::regex line(R"re(<polyline class="pc" points="([^"]*)")re");
  size_t lines = 0, withMomentum = 0, complete = 0, sgd = 0;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), line); it != std::sregex_iterator(); ++it) {
    std::string points = (*it)[1];
    size_t n = count(points, ",");
    EXPECT_TRUE(n == 3 || n == 4) << points;
    ++lines, withMomentum += n == 4;
  }
  for (const Trial &t : s.trials)
    if (t.state == TrialState::Complete) ++complete, sgd += *t.params[1] == 0;
  EXPECT_EQ(lines, complete);
  EXPECT_EQ(withMomentum, sgd);
  EXPECT_NE(html.find("darker is better"), std::string::npos);
}

TEST_F(ReportTest, LogAxisOnlyForValuesSpanningDecades) {
  Study s = study({uniform("x", 0, 1)});
  for (int i = 0; i < 5; ++i) add(s, TrialState::Complete, {i / 5.0}, 0.1 + i * 0.1);
  EXPECT_EQ(renderReport(s, sampleInfo()).find("val.loss (log scale)"), std::string::npos);
  for (int i = 0; i < 5; ++i) add(s, TrialState::Complete, {i / 5.0}, std::pow(10, -i));
  std::string html = renderReport(s, sampleInfo());
  EXPECT_NE(html.find("val.loss (log scale)"), std::string::npos);
  EXPECT_NE(html.find(">0.0001</text>"), std::string::npos);  // a decade tick
}

TEST_F(ReportTest, EdgeCasesRenderWithFiniteCoordinates) {
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  std::vector<std::pair<std::string, Study>> cases;
  cases.emplace_back("empty", study({uniform("x", 0, 1)}));
  cases.emplace_back("no parameters", study({}));
  add(cases.back().second, TrialState::Complete, {}, 1.0);
  Study failed = study({uniform("x", 0, 1)});
  for (int i = 0; i < 3; ++i) add(failed, TrialState::Failed, {0.5}, std::nullopt);
  cases.emplace_back("only failed", failed);
  Study equal = study({uniform("x", 0, 1), logUniform("lr", 1e-3, 1e-3)});
  for (int i = 0; i < 6; ++i) add(equal, TrialState::Complete, {0.25, 1e-3}, 0.5);
  equal.trials[2].intermediate = {{1, 0.5}, {2, 0.5}};
  cases.emplace_back("all equal", equal);
  Study bad = study({uniform("x", 0, 1)});
  add(bad, TrialState::Complete, {nan}, nan);
  add(bad, TrialState::Complete, {0.5}, inf);
  add(bad, TrialState::Pruned, {inf}, -inf);
  add(bad, TrialState::Complete, {0.2}, 0.3);
  bad.trials[0].intermediate = {{1, nan}, {2, inf}, {3, 0.4}};
  bad.trials[2].intermediate = {{1, -inf}};
  cases.emplace_back("nan and inf", bad);
  Study single = study({choice("c", {"only"})});
  add(single, TrialState::Complete, {0.0}, 0.0);
  single.trials[0].intermediate = {{0, 0.0}};
  cases.emplace_back("single trial", single);
  Study pruned = study({uniform("x", 0, 1)});
  add(pruned, TrialState::Pruned, {0.5}, std::nullopt);
  pruned.trials[0].intermediate = {{3, 2.0}};
  cases.emplace_back("one pruned trial, no value", pruned);

  for (const auto &[name, s] : cases) {
    SCOPED_TRACE(name);
    std::string html;
    ASSERT_NO_THROW(html = renderReport(s, ReportInfo{}));
    EXPECT_FALSE(nonFiniteAttribute(html));
    EXPECT_NE(html.find("</html>"), std::string::npos);
    std::string out;
    EXPECT_EQ(checkReport(html, "--static", out), 0) << out;
  }
  std::string html = renderReport(cases[2].second, ReportInfo{});
  EXPECT_NE(html.find("0 complete, 0 pruned, 3 failed, 0 running"), std::string::npos);
  EXPECT_NE(html.find("No complete or pruned trial has a finite objective value yet."), std::string::npos);
  EXPECT_NE(html.find("Failed, not plotted: #0, #1, #2."), std::string::npos);
}

TEST_F(ReportTest, SampleIsWellFormedWithEverySection) {
  std::string out;
  EXPECT_EQ(checkReport(renderReport(sampleStudy(), sampleInfo()), "--static --plots 4 --rows 30", out), 0) << out;
}

// The checker itself is not vacuous: it catches a loaded image, a nan
// coordinate and markup that is not well-formed.
TEST_F(ReportTest, CheckerRejectsBrokenPages) {
  std::string html = renderReport(sampleStudy(), sampleInfo()), out;
  std::string image = html;
  image.insert(image.find("</body>"), "<img src=\"https://example.com/a.png\"/>");
  EXPECT_EQ(checkReport(image, "--static", out), 1);
  EXPECT_NE(out.find("<img src=\"https://example.com/a.png\">"), std::string::npos) << out;
  std::string nan = std::regex_replace(html, std::regex(R"(cx="[^"]*")"), "cx=\"nan\"",
                                       std::regex_constants::format_first_only);
  EXPECT_EQ(checkReport(nan, "--static", out), 1);
  EXPECT_NE(out.find("<circle cx=\"nan\">: not a finite number"), std::string::npos) << out;
  std::string unclosed = html;
  unclosed.erase(unclosed.find("</g>"), 4);
  EXPECT_EQ(checkReport(unclosed, "--static", out), 1);
  EXPECT_NE(out.find("not well-formed XML"), std::string::npos) << out;
}

TEST_F(ReportTest, SampleRendersInHeadlessChromium) {
  std::string out;
  int status = checkReport(renderReport(sampleStudy(), sampleInfo()), "--plots 4 --rows 30", out);
  if (status == 77) GTEST_SKIP() << out;
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("check_report: OK"), std::string::npos) << out;
}

}  // namespace
}  // namespace mlcrt::tune
