// The compiled experiment's command line: modes, options, key=value
// overrides checked against the schema, --help, and mlcrt_main's exit
// statuses for usage errors.
#include "abi/plan.h"
#include "src/Cli.h"

#include "SampleManifest.h"

#include <gtest/gtest.h>

#include <thread>

using namespace mlcrt;
using mlcrt::test::sampleManifest;

namespace {

const Manifest &sample() {
  static const Manifest m = parseManifest(sampleManifest().dump());
  return m;
}

Options parse(std::vector<std::string> args) { return parseCommandLine(sample(), args); }

std::string usageError(std::vector<std::string> args) {
  try {
    parse(args);
  } catch (const UsageError &e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(Cli, Defaults) {
  Options o = parse({});
  EXPECT_EQ(o.mode, Mode::FitTest);
  unsigned hw = std::thread::hardware_concurrency();
  EXPECT_EQ(o.threads, hw ? int(hw) : 1);
  EXPECT_EQ(o.root, ".");
  EXPECT_TRUE(o.input.empty());
  EXPECT_TRUE(o.saveState.empty());
  EXPECT_TRUE(o.overrides.empty());
  EXPECT_FALSE(o.help);
}

TEST(Cli, ModesAndOptions) {
  EXPECT_EQ(parse({"fit"}).mode, Mode::Fit);
  EXPECT_EQ(parse({"test"}).mode, Mode::Test);
  EXPECT_EQ(parse({"predict"}).mode, Mode::Predict);
  Options o = parse({"--threads", "3", "predict", "--root=out", "--input", "x.csv", "--load-state", "s.bin"});
  EXPECT_EQ(o.mode, Mode::Predict);
  EXPECT_EQ(o.threads, 3);
  EXPECT_EQ(o.root, "out");
  EXPECT_EQ(o.input, "x.csv");
  EXPECT_EQ(o.loadState, "s.bin");
  EXPECT_EQ(parse({"--threads=2"}).threads, 2);
  EXPECT_EQ(parse({"fit", "--save-state", "w.bin"}).saveState, "w.bin");
}

TEST(Cli, Overrides) {
  Options o = parse({"optimizer.lr=0.01", "trainer.epochs=3", "fit", "trainer.precision=bf16", "track.dir=x=y",
                     "early_stop.enabled=true", "trainer.seed=-5"});
  ASSERT_EQ(o.overrides.size(), 6u);
  EXPECT_EQ(o.overrides[0].key, "optimizer.lr");
  EXPECT_DOUBLE_EQ(o.overrides[0].number, 0.01);
  EXPECT_EQ(o.overrides[1].integer, 3);
  EXPECT_EQ(o.overrides[2].number, 1);  // enum index
  EXPECT_EQ(o.overrides[3].text, "x=y");
  EXPECT_EQ(o.overrides[4].number, 1);
  EXPECT_EQ(o.overrides[5].integer, -5);
  // Numbers in any spelling C++ reads back exactly.
  EXPECT_DOUBLE_EQ(parse({"optimizer.lr=1e-3"}).overrides[0].number, 1e-3);
  EXPECT_DOUBLE_EQ(parse({"optimizer.lr=+2"}).overrides[0].number, 2);
  EXPECT_EQ(parse({"trainer.epochs=+7"}).overrides[0].integer, 7);
}

TEST(Cli, UnknownKeySuggests) {
  EXPECT_EQ(usageError({"optimizer.lrr=0.1"}), "unknown key `optimizer.lrr`, did you mean `optimizer.lr`?");
  EXPECT_EQ(usageError({"trainer.epoch=3"}), "unknown key `trainer.epoch`, did you mean `trainer.epochs`?");
  EXPECT_EQ(usageError({"trainer.ephocs=3"}), "unknown key `trainer.ephocs`, did you mean `trainer.epochs`?");
  EXPECT_EQ(usageError({"colour=red"}), "unknown key `colour`");
  EXPECT_EQ(usageError({"=3"}), "`=3` has no key before `=`");
}

TEST(Cli, WrongTypes) {
  EXPECT_EQ(usageError({"trainer.epochs=1.5"}), "`trainer.epochs` expects an int, got `1.5`");
  EXPECT_EQ(usageError({"trainer.epochs="}), "`trainer.epochs` expects an int, got ``");
  EXPECT_EQ(usageError({"trainer.epochs=99999999999999999999"}),
            "`trainer.epochs` expects an int, got `99999999999999999999`");
  EXPECT_EQ(usageError({"optimizer.lr=abc"}), "`optimizer.lr` expects a float, got `abc`");
  EXPECT_EQ(usageError({"optimizer.lr=nan"}), "`optimizer.lr` expects a float, got `nan`");
  EXPECT_EQ(usageError({"optimizer.lr=1e999"}), "`optimizer.lr` expects a float, got `1e999`");
  EXPECT_EQ(usageError({"optimizer.lr=0.1x"}), "`optimizer.lr` expects a float, got `0.1x`");
  EXPECT_EQ(usageError({"early_stop.enabled=yes"}), "`early_stop.enabled` expects `true` or `false`, got `yes`");
  EXPECT_EQ(usageError({"trainer.precision=f23"}),
            "`trainer.precision` expects one of `f32`, `bf16`, `f16`, got `f23`, did you mean `f32`?");
  EXPECT_EQ(usageError({"trainer.precision=fp64"}),
            "`trainer.precision` expects one of `f32`, `bf16`, `f16`, got `fp64`");
}

TEST(Cli, OutOfRange) {
  EXPECT_EQ(usageError({"optimizer.lr=0"}), "`optimizer.lr` must be > 0, got `0`");
  EXPECT_EQ(usageError({"optimizer.lr=-1e-3"}), "`optimizer.lr` must be > 0, got `-1e-3`");
  EXPECT_EQ(usageError({"trainer.epochs=0"}), "`trainer.epochs` must be >= 1, got `0`");
  EXPECT_EQ(usageError({"model.p=1"}), "`model.p` must be in [0, 1), got `1`");
  EXPECT_EQ(usageError({"model.p=-0.5"}), "`model.p` must be in [0, 1), got `-0.5`");
  EXPECT_NO_THROW(parse({"model.p=0"}));
  EXPECT_NO_THROW(parse({"model.p=0.999"}));
}

TEST(Cli, Duplicates) {
  EXPECT_EQ(usageError({"trainer.epochs=3", "fit", "trainer.epochs=4"}),
            "`trainer.epochs` is given twice: `3` and `4`");
  EXPECT_EQ(usageError({"--seed", "1", "trainer.seed=2"}), "`trainer.seed` is given twice (`--seed` sets it too)");
  EXPECT_EQ(usageError({"--seed", "1", "--seed=2"}), "`trainer.seed` is given twice (`--seed` sets it too)");
}

TEST(Cli, BadOptionsAndModes) {
  EXPECT_EQ(usageError({"--thread", "2"}), "unknown option `--thread`, did you mean `--threads`?");
  EXPECT_EQ(usageError({"--frobnicate"}), "unknown option `--frobnicate`");
  EXPECT_EQ(usageError({"-x"}), "unknown option `-x`");
  EXPECT_EQ(usageError({"--threads"}), "`--threads` needs a value: `--threads N`");
  EXPECT_EQ(usageError({"--threads", "0"}), "`--threads` expects an int in [1, 4096], got `0`");
  EXPECT_EQ(usageError({"--threads", "two"}), "`--threads` expects an int in [1, 4096], got `two`");
  EXPECT_EQ(usageError({"--seed", "x"}), "`trainer.seed` expects an int, got `x`");
  EXPECT_EQ(usageError({"--root="}), "`--root` needs a non-empty value");
  EXPECT_EQ(usageError({"--version=2"}), "`--version` takes no value");
  EXPECT_EQ(usageError({"fitt"}),
            "unknown mode `fitt`, did you mean `fit`? (modes: fit, train, test, predict; a key needs `key=value`)");
  EXPECT_EQ(usageError({"fit", "test"}), "two modes given: `fit` and `test`");
  EXPECT_EQ(usageError({"fit", "--input", "a.csv"}), "`--input` needs the `predict` mode");
  EXPECT_EQ(usageError({"test", "--save-state", "s"}), "`--save-state` needs a mode that fits (`fit`, or no mode)");
}

TEST(Cli, HelpWinsOverMistakes) {
  EXPECT_TRUE(parse({"bogus=1", "--help"}).help);
  EXPECT_TRUE(parse({"-h"}).help);
  EXPECT_TRUE(parse({"--nope", "--version"}).version);
}

TEST(Cli, ApplyOverrides) {
  Manifest m = sample();
  Options o = parse({"optimizer.lr=0.25", "trainer.epochs=3", "trainer.batch=5", "--seed", "9", "data.seed=11",
                     "trainer.precision=bf16", "model.p=0"});
  std::vector<std::string> warnings = applyOverrides(m, o);
  EXPECT_DOUBLE_EQ(m.hparams[0].value, 0.25);
  EXPECT_DOUBLE_EQ(m.hparams[1].value, 0.0);
  EXPECT_EQ(m.epochs, 3);
  EXPECT_EQ(m.batch, 5);
  EXPECT_EQ(m.seed, 9u);
  EXPECT_EQ(m.data.seed, 11u);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0], "`trainer.precision` has no effect in this runtime yet; it is ignored");

  // --seed works without a schema entry too, and keeps a negative seed's bits.
  Manifest bare = sample();
  bare.schema.clear();
  Options seeded = parseCommandLine(bare, {"--seed=-1"});
  applyOverrides(bare, seeded);
  EXPECT_EQ(bare.seed, ~uint64_t(0));
}

TEST(Cli, HelpListsEveryKey) {
  std::string help = helpText(sample(), "iris");
  EXPECT_NE(help.find("usage: iris [fit|train|test|predict] [options] [key=value ...]"), std::string::npos);
  for (const char *mode : {"  fit ", "  test ", "  predict ", "  (none) "})
    EXPECT_NE(help.find(mode), std::string::npos) << mode;
  for (const char *option : {"--threads N", "--seed N", "--root DIR", "--input FILE", "--save-state FILE",
                             "--load-state FILE", "--help", "--version"})
    EXPECT_NE(help.find(option), std::string::npos) << option;
  for (const SchemaEntry &e : sample().schema) EXPECT_NE(help.find("  " + e.key + " "), std::string::npos) << e.key;
  // One row per key: type, default, range, doc, in aligned columns.
  EXPECT_NE(help.find("  KEY                 TYPE    DEFAULT  RANGE\n"), std::string::npos) << help;
  EXPECT_NE(help.find("  optimizer.lr        float   0.5      > 0           learning rate\n"), std::string::npos)
      << help;
  EXPECT_NE(help.find("  model.p             float   0.1      [0, 1)        dropout probability\n"),
            std::string::npos);
  EXPECT_NE(help.find("  trainer.epochs      int     40       >= 1          passes over the train split\n"),
            std::string::npos);
  EXPECT_NE(help.find("  trainer.precision   enum    f32      f32|bf16|f16  compute precision\n"), std::string::npos);
  EXPECT_NE(help.find("  early_stop.enabled  bool    false    -\n"), std::string::npos);
}

TEST(Cli, ClosestMatch) {
  EXPECT_EQ(closestMatch("optimizer.rl", {"optimizer.lr", "model.p"}), "optimizer.lr");
  EXPECT_EQ(closestMatch("zzz", {"optimizer.lr", "model.p"}), "");
  EXPECT_EQ(closestMatch("", {"a"}), "a");  // one edit
}

// mlcrt_main: usage errors exit 2 before any data is read (the sample's data
// file does not exist), help and version exit 0.
namespace {

using mlcrt::test::MainResult;

MainResult runMain(const mlc_plan &plan, std::vector<std::string> args) {
  return mlcrt::test::runMain(plan, std::move(args), "/some/dir/iris");
}

void noStep(mlc_step_ctx *) {}

}  // namespace

TEST(Main, ExitStatuses) {
  static const std::string json = sampleManifest().dump();
  mlc_variant variant{json.c_str(), noStep, nullptr, noStep};
  mlc_plan plan{MLC_PLAN_ABI_VERSION, 1, &variant};

  MainResult r = runMain(plan, {"optimizer.lrr=1"});
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "error: unknown key `optimizer.lrr`, did you mean `optimizer.lr`?\n");
  EXPECT_EQ(r.out, "");

  r = runMain(plan, {"trainer.epochs=1.5"});
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "error: `trainer.epochs` expects an int, got `1.5`\n");

  r = runMain(plan, {"--help"});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out.rfind("usage: iris ", 0), 0u) << r.out;
  EXPECT_EQ(r.err, "");

  r = runMain(plan, {"--version"});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "iris_net (mlc runtime 0.1.0, plan abi " + std::to_string(MLC_PLAN_ABI_VERSION) + ")\n");

  // Past the command line, the missing data file is a run-time error.
  r = runMain(plan, {"fit"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("/nonexistent/iris.csv"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("error: ", r.err.find("error: ") + 1), std::string::npos) << "one `error:` only: " << r.err;

  // Control characters from the command line are escaped.
  r = runMain(plan, {"bad\x1b[31m=1"});
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "error: unknown key `bad\\x1b[31m`\n");

  mlc_plan old = plan;
  old.abi_version = 0;
  r = runMain(old, {});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "error: the experiment was compiled for plan ABI 0, but this runtime reads ABI " + std::to_string(MLC_PLAN_ABI_VERSION) + ": compile it again "
                   "with the matching mlc\n");

  std::string broken = "{\"abi\": 1}";
  mlc_variant broken_variant{broken.c_str(), noStep, nullptr, noStep};
  mlc_plan bad{MLC_PLAN_ABI_VERSION, 1, &broken_variant};
  r = runMain(bad, {});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "error: manifest: missing key `experiment`\n");
}
