// The tuner's own pieces: the trial graph as the manifest carries it, the
// `sweep.*` overrides, variant selection and the trial socket's messages.
#include "src/Cli.h"
#include "src/tune/SweepSpec.h"
#include "src/tune/TrialChannel.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace {

using namespace mlcrt::tune;
using json = nlohmann::json;

json sweepJson() {
  return {{"study", "{experiment}-s"},
          {"objective", {{"metric", "val.loss"}, {"mode", "min"}}},
          {"dims",
           {{{"path", "optimizer.lr"}, {"kind", "loguniform"}, {"low", 1e-4}, {"high", 0.1}, {"compiled", false}},
            {{"path", "model.hidden"}, {"kind", "choice"}, {"values", {"64", "128"}}, {"compiled", true}},
            {{"path", "model.depth"}, {"kind", "int"}, {"low", 1}, {"high", 5}, {"step", 2}, {"log", false},
             {"compiled", true}, {"parent", 1}, {"when", {"128"}}}}},
          {"search", {{"kind", "tpe"}, {"seed", 3}, {"startup", 5}, {"candidates", 12}, {"multivariate", true}}},
          {"prune", {{"kind", "asha"}, {"grace", 1}, {"reduction", 3}, {"max", 0}, {"unit", "epochs"}, {"warmup", 1},
                     {"min_trials", 5}}},
          {"trials", 12},
          {"parallel", 2},
          {"retries", 1},
          {"storage", {{"kind", "sqlite"}, {"path", ""}}},
          {"refit", true},
          {"ensemble", 2},
          {"variants",
           {{{"model.hidden", "128"}, {"model.depth", "1"}},
            {{"model.hidden", "64"}, {"model.depth", "1"}},
            {{"model.hidden", "128"}, {"model.depth", "3"}}}}};
}

TEST(SweepSpec, ReadsTheTrialGraph) {
  std::optional<SweepSpec> spec = parseSweep(json{{"sweep", sweepJson()}}.dump());
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->study, "{experiment}-s");
  EXPECT_EQ(spec->objective, "val.loss");
  EXPECT_TRUE(spec->minimize);
  ASSERT_EQ(spec->space.dims.size(), 3u);
  EXPECT_EQ(spec->space.dims[0].kind, Dim::LogUniform);
  EXPECT_EQ(spec->space.dims[1].kind, Dim::Choice);
  EXPECT_TRUE(spec->space.dims[1].structural);
  EXPECT_EQ(spec->space.dims[2].count(), 3);
  EXPECT_EQ(spec->space.dims[2].parent, 1);
  EXPECT_EQ(spec->search.kind, "tpe");
  EXPECT_EQ(spec->search.seed, 3u);
  EXPECT_TRUE(spec->search.multivariate);
  EXPECT_EQ(spec->prune.kind, "asha");
  EXPECT_EQ(spec->trials, 12);
  EXPECT_EQ(spec->ensemble, 2);
  EXPECT_EQ(spec->variants.size(), 3u);
  EXPECT_FALSE(parseSweep("{\"abi\": 1}"));
}

TEST(SweepSpec, MalformedGraphNamesTheKey) {
  json j = sweepJson();
  j["dims"][2]["parent"] = 2;  // itself: parents come first
  try {
    parseSweep(json{{"sweep", j}}.dump());
    FAIL() << "accepted a dimension that is its own parent";
  } catch (const mlcrt::Error &e) {
    EXPECT_STREQ(e.what(), "manifest: `sweep.dims[2].parent` is missing or malformed");
  }
}

TEST(SweepSpec, FindsTheVariantOfCompiledValues) {
  SweepSpec spec = *parseSweep(json{{"sweep", sweepJson()}}.dump());
  EXPECT_EQ(findVariant(spec, {{"model.hidden", "64"}}), 1);  // depth inactive: the spec's own value
  EXPECT_EQ(findVariant(spec, {{"model.hidden", "128"}, {"model.depth", "3"}}), 2);
  EXPECT_EQ(findVariant(spec, {{"model.hidden", "128"}, {"model.depth", "1"}}), 0);
  EXPECT_EQ(findVariant(spec, {{"model.hidden", "128"}, {"model.depth", "5"}}), -1);
}

TEST(SweepSpec, FingerprintIgnoresHowMuchToRun) {
  SweepSpec a = *parseSweep(json{{"sweep", sweepJson()}}.dump()), b = a;
  b.trials = 40;
  b.parallel = 4;
  b.retries = 0;
  EXPECT_EQ(fingerprint(a), fingerprint(b));
  b.search.seed = 4;
  EXPECT_NE(fingerprint(a), fingerprint(b));
}

TEST(TrialChannel, MessagesRoundTrip) {
  std::optional<Message> m = parseMessage("report 3 0.25");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, Message::Report);
  EXPECT_EQ(m->budget, 3);
  EXPECT_EQ(m->value, 0.25);
  m = parseMessage(formatMessage({Message::Report, 7, NAN}).substr(0, formatMessage({Message::Report, 7, NAN}).size() - 1));
  ASSERT_TRUE(m);
  EXPECT_TRUE(std::isnan(m->value));
  m = parseMessage("complete 27");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, Message::Complete);
  EXPECT_EQ(m->budget, 27);
  for (const char *bad : {"", "report", "report 3", "report x 1", "report 3 1 2", "complete", "complete 3x", "hello"})
    EXPECT_FALSE(parseMessage(bad)) << bad;
}

TEST(TrialChannel, ReportWaitsForTheAnswer) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  std::thread tuner([fd = fds[0]] {
    char buf[64];
    ssize_t n = read(fd, buf, sizeof buf);
    std::string got(buf, n > 0 ? size_t(n) : 0);
    std::string answer = got == "report 1 0.5\n" ? "prune\n" : "go\n";
    ASSERT_EQ(write(fd, answer.data(), answer.size()), ssize_t(answer.size()));
    n = read(fd, buf, sizeof buf);
    got.assign(buf, n > 0 ? size_t(n) : 0);
    answer = "go\n";
    ASSERT_EQ(write(fd, answer.data(), answer.size()), ssize_t(answer.size()));
  });
  TrialChannel channel(fds[1]);
  EXPECT_FALSE(channel.report(1, 0.5));
  EXPECT_TRUE(channel.report(2, 0.25));
  tuner.join();
  close(fds[0]);
  close(fds[1]);
}

}  // namespace
