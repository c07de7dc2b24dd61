// A run's life around the step program: which directory it owns, resuming
// from checkpoints, writing them (atomically, top-k, every epoch/steps/
// minutes), early stopping, SIGINT/SIGTERM, tracking and notifications.
// The training loop (Loop.cpp) calls it at step and epoch boundaries and
// hands it the state bytes; it never touches the math.
#pragma once

#include "src/Cli.h"
#include "src/EarlyStop.h"
#include "src/Metrics.h"
#include "src/RunNames.h"

#include <chrono>
#include <memory>
#include <optional>

namespace mlcrt {


/// Where training stands: everything besides the state bytes that an exact
/// resume needs. The data order is shuffledOrder(seed, epoch), so the epoch
/// and the batches consumed in it fix the sampler; the dropout stream is
/// keyed by `micro`, the schedules by `step`.
struct TrainPosition {
  int64_t epoch = 0;       // epochs completed
  int64_t batch = 0;       // batches of the next epoch already trained on
  int64_t step = 0;        // optimizer updates
  uint64_t micro = 0;      // forward passes
  double lossSum = 0;      // the unfinished epoch's train loss, summed over samples
  int64_t seen = 0;        // and its samples
  double trainSeconds = 0;  // training time before this process
};

class Lifecycle {
public:
  Lifecycle(const Manifest &m, const Options &options, const char *mode);
  ~Lifecycle();

  /// Chooses the run directory and restores `state` and `pos` when a
  /// checkpoint of this configuration continues it. Returns true when the
  /// run had already finished: `final` then holds its last metrics.
  /// `batchesPerEpoch` counts batches (not updates), for progress.
  bool beginFit(char *state, TrainPosition &pos, int64_t totalSteps, int64_t batchesPerEpoch, Metrics &final);

  /// After an optimizer update: progress, interval checkpoints, the loss
  /// check and signals. A non-empty result stops the run for that reason
  /// (a checkpoint is written first).
  std::string afterStep(const char *state, const TrainPosition &pos, double loss, int64_t samples);

  /// After an epoch and its validation: tracking, top-k and interval
  /// checkpoints, early stopping. Non-empty: stop early for that reason.
  std::string afterEpoch(const char *state, const TrainPosition &pos, const Metrics &metrics);

  /// Writes the final model and run.json; `status` is finished, early_stop
  /// or killed (a signal; then only run.json). Tracking goes on: close()
  /// ends it, after the test results.
  void endFit(const char *state, const TrainPosition &pos, const Metrics &final, const std::string &status,
              const std::string &reason);

  /// Test results of this run (fit then test, or the test mode).
  void recordTest(const Metrics &metrics);

  /// Loads weights for test and predict: `which` is best, last, init (the
  /// untrained weights), a path, or empty for the final model of this
  /// configuration.
  void loadWeights(char *state, const std::string &which);

  /// Ends the run's tracking and sends its notification: with endFit's
  /// status after a fit, `finished` after test or predict.
  void close(const Metrics &final);

  /// The run failed with `message`: tracking and notifications hear of it.
  void failed(const std::string &message);

  std::filesystem::path runDir() const;
  std::filesystem::path testDir() const;
  /// The exit status for a run stopped by a signal: 128 + its number, or 0.
  int signalStatus() const;
  /// Whether the tuner stopped this trial (afterEpoch's reason says so).
  bool pruned() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// What --plan prints: parameters, FLOPs per step, memory and output paths.
std::string planText(const Manifest &m, const Options &options, int64_t trainSamples);

}  // namespace mlcrt
