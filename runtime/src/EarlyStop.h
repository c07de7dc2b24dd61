// Early stopping: watches one metric after every validation and the loss
// after every step, and says why a run should stop. Pure bookkeeping (no
// clocks, no files), so a scripted metric curve tests every knob.
#pragma once

#include "src/Manifest.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mlcrt {

class EarlyStopping {
public:
  explicit EarlyStopping(EarlyStopSpec spec) : spec_(std::move(spec)) {}

  /// After a validation: the reason to stop, or nothing. `epoch` counts from 1.
  std::optional<std::string> update(int64_t epoch, const std::vector<std::pair<std::string, double>> &metrics);

  /// After a train step: stops at the first NaN or Inf loss when
  /// check_finite is on. `step` counts optimizer updates from 1.
  std::optional<std::string> checkLoss(int64_t step, int64_t epoch, double loss) const;

  /// What a checkpoint records to continue exactly.
  struct State {
    bool hasBest = false;
    double best = 0;
    int64_t bestEpoch = 0, wait = 0;
  };
  const State &state() const { return state_; }
  void restore(const State &s) { state_ = s; }
  const EarlyStopSpec &spec() const { return spec_; }

private:
  bool better(double value, double than) const;
  EarlyStopSpec spec_;
  State state_;
};

/// Whether `value` beats `than` under `mode` (min | max) by more than `delta`.
bool improves(const std::string &mode, double value, double than, double delta = 0);

}  // namespace mlcrt
