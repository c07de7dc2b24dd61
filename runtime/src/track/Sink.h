// Experiment tracking: the training loop reports to a Tracker, which fans
// out to sinks (the console, jsonl, csv, TensorBoard, an MLflow store).
// Tracking is a by-product of a run, so a sink that fails is switched off
// with a warning and the run goes on.
#pragma once

#include "src/Metrics.h"

#include <cstdint>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mlcrt::track {

using mlcrt::Metrics;  // `train.loss`, `val.accuracy`, ... in print order

struct RunInfo {
  std::string project, run;  // resolved names, e.g. `MLP-digits`, `hidden=256-bs64-lr0.001`
  std::string mode;          // fit | test | tune | predict
  std::string experiment;    // the experiment's name in the .mlp
  std::string runId;         // 32 lowercase hex digits, stable across a resume of the same run
  int64_t startMs = 0;       // unix epoch milliseconds
  std::vector<std::pair<std::string, std::string>> config;  // the full resolved config: key -> value text
  std::filesystem::path runDir;      // this run's local files: metrics.jsonl, metrics.csv, events
  std::filesystem::path mlflowRoot;  // the `mlruns` directory
  bool resumed = false;
  int64_t resumeStep = 0;  // a resumed run continues after this optimizer step
  int64_t totalSteps = 0, epochs = 0;
};

/// After a train step. epoch and batch count from 1; elapsedSeconds is the
/// training time since start (or the resume), which the ETA extrapolates.
struct Progress {
  int64_t epoch = 0, epochs = 0, batch = 0, batches = 0, step = 0, totalSteps = 0;
  double loss = 0, samplesPerSecond = 0, elapsedSeconds = 0;
};

struct Outcome {
  std::string status;  // finished | failed | killed | early_stop
  std::string reason;
  Metrics final;
  std::string checkpoint;
  double seconds = 0;
};

class Sink {
public:
  virtual ~Sink() = default;
  virtual void start(const RunInfo &) {}
  /// After every train step; only the console draws anything.
  virtual void progress(const Progress &) {}
  /// epoch: the epoch that just ended, counting from 1, or 0 for metrics
  /// that end no epoch (test results). timeMs: unix epoch milliseconds.
  virtual void metrics(int64_t /*step*/, int64_t /*epoch*/, const Metrics &, int64_t /*timeMs*/) {}
  virtual void finish(const Outcome &) {}
};

/// terminal: draw a live progress bar; otherwise only a line per `every`
/// epochs (and the last), `epoch 1/20 train.loss=0.5123 (1.23 s)`.
std::unique_ptr<Sink> makeConsoleSink(std::ostream &out, bool terminal, int every = 1);
std::unique_ptr<Sink> makeJsonlSink();        // <runDir>/metrics.jsonl, config.json, summary.json
std::unique_ptr<Sink> makeCsvSink();          // <runDir>/metrics.csv
std::unique_ptr<Sink> makeTensorBoardSink();  // <runDir>/events.out.tfevents.*
std::unique_ptr<Sink> makeMlflowSink();       // an MLflow FileStore under mlflowRoot

/// Fans out to its sinks in the order added. A sink that throws is reported
/// once on `warnings` (`warning: tracking sink `<name>` failed: ...`) and
/// skipped from then on: tracking never fails a run.
class Tracker {
public:
  explicit Tracker(std::ostream &warnings = std::cerr) : warnings_(warnings) {}
  void add(std::string name, std::unique_ptr<Sink> sink);
  void start(const RunInfo &info);
  void progress(const Progress &p);
  void metrics(int64_t step, int64_t epoch, const Metrics &m);  // stamped with the current time
  void finish(const Outcome &outcome);

private:
  struct Entry {
    std::string name;
    std::unique_ptr<Sink> sink;
    bool failed = false;
  };
  template <class F> void each(F &&f);
  std::ostream &warnings_;
  std::vector<Entry> sinks_;
};

/// Milliseconds since the Unix epoch: the time stamps of every store.
int64_t unixMillis();

/// CRC-32C (Castagnoli), as TFRecord framing uses; exposed for the tests.
uint32_t crc32c(std::string_view bytes);

}  // namespace mlcrt::track
