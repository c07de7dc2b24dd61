// The command line of a compiled experiment:
//   ./exp [fit|train|test|predict] [options] [key=value ...]
// Every key=value is checked against the manifest's schema before anything
// runs, so a typo costs nothing but a message.
#pragma once

#include "src/Manifest.h"

#include <chrono>
#include <filesystem>

#include <optional>

namespace mlcrt {

/// A mistake on the command line: the process exits with status 2.
struct UsageError : Error {
  using Error::Error;
};

enum class Mode {
  FitTest,  // no mode given: fit, then test (with a sweep: tune)
  Fit,
  Test,
  Predict,
  Tune,     // run the study, then refit the best configuration, test it and report
  Study,    // print the study's trials
  Report,   // write the study's HTML report
};

/// What a trial process knows besides its command line: set by the tuner
/// in the forked process, read by the run's lifecycle.
struct TrialRun {
  int number = -1;
  std::string study;
  std::filesystem::path dir;  // <root>/tune/<study>/trial-<n>: its checkpoints
  int channel = -1;           // the socket to the tuner (tune/TrialChannel.h)
  std::string objective;      // the metric reported
  bool minimize = true;
  std::string unit = "epochs";
  std::chrono::steady_clock::time_point started;  // when the tuner started it
};

struct Override {
  std::string key, text;  // as given
  const SchemaEntry *entry = nullptr;
  double number = 0;   // the value for int, float, bool (0/1) and enum (index)
  int64_t integer = 0;  // the exact value for int (a seed may not fit a double)
  bool fromOption = false;  // `--seed N` rather than `trainer.seed=N`
  bool variant = false;     // a compiled key whose value picks one of the sweep's variants
};

struct Options {
  Mode mode = Mode::FitTest;
  int threads = 1;
  bool threadsGiven = false;  // --threads: each trial of a study gets this many too
  std::string root = ".";
  std::string input;      // predict: a CSV of features instead of the test split
  std::string saveState;  // fit: write the trained state's raw bytes here
  std::string loadState;  // start from these raw state bytes instead of the initialisation
  bool help = false, version = false;
  bool bench = false;     // print the throughput of fit's train steps
  bool resume = false;    // --resume: continue from the newest valid checkpoint, or fail
  std::string outputs;    // predict (a tuner's ensemble member): also the raw outputs, f32 samples x width
  std::string ckpt;       // test/predict: best | last | a checkpoint path (default: the final model)
  bool plan = false;      // print the plan (parameters, FLOPs, memory, paths) and stop
  bool dryRun = false;    // check the configuration and the data, print what would run, write nothing
  std::vector<Override> overrides;  // in command-line order, `--seed` included as `trainer.seed`
  std::string output;     // report: the HTML file (default <root>/tune/<study>/report.html)
  const TrialRun *trial = nullptr;  // set in a tuner's trial process
};

/// A checked `key=value` (as on the command line). Throws UsageError.
Override parseOverride(const Manifest &manifest, const std::string &key, const std::string &text);

/// Parses `args` (argv without the program name). Throws UsageError.
Options parseCommandLine(const Manifest &manifest, const std::vector<std::string> &args);

/// Applies the overrides: hparams by slot, and the trainer and data keys the
/// runtime reads. Returns a warning per override that has no effect in this
/// runtime.
std::vector<std::string> applyOverrides(Manifest &manifest, const Options &options);

/// The --help text: modes, options and every schema key.
std::string helpText(const Manifest &manifest, const std::string &program);

std::string versionText(const Manifest &manifest);

/// The closest of `candidates` to `name`, or "" when none is close.
std::string closestMatch(const std::string &name, const std::vector<std::string> &candidates);

}  // namespace mlcrt
