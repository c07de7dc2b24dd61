// The tuner's vocabulary: a search space, trials and what they reported.
// The samplers, pruners, study storage and report all speak it; none of
// them knows about processes, the manifest or the training loop.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mlcrt::tune {

/// One swept parameter (a dimension of the search space).
struct Dim {
  enum Kind { Uniform, LogUniform, Int, Choice };
  std::string path;  // `optimizer.lr`, the override key
  Kind kind = Uniform;
  double low = 0, high = 0;  // Uniform, LogUniform, Int (both ends included for Int)
  double step = 1;           // Int: values low, low + step, ... <= high
  bool log = false;          // Int: sample on a log scale
  std::vector<std::string> choices;  // Choice: each value as its override text
  bool structural = false;           // changes the compiled step program
  /// Conditional parameters: active only when dims[parent]'s value (its
  /// override text) is one of `when`. -1: always active.
  int parent = -1;
  std::vector<std::string> when;

  /// How many values a finite dimension has (Int, Choice); 0 when continuous.
  int64_t count() const;
  /// The override text of `value` (a Choice's index, an Int's value, a float).
  std::string text(double value) const;
};

struct Space {
  std::vector<Dim> dims;
  /// Whether dims[i] is active given the other values of `params`.
  bool active(const std::vector<std::optional<double>> &params, size_t i) const;
};

/// A trial's parameters by dimension: the value for Uniform, LogUniform and
/// Int, the index into `choices` for Choice; nullopt where inactive.
using Params = std::vector<std::optional<double>>;

enum class TrialState { Waiting, Running, Complete, Pruned, Failed };
const char *stateName(TrialState s);  // waiting | running | complete | pruned | failed

struct Trial {
  int number = 0;  // 0, 1, ... in the order trials were created
  TrialState state = TrialState::Waiting;
  Params params;
  std::optional<double> value;             // the objective: Complete (and the last value of a Pruned trial)
  std::map<int64_t, double> intermediate;  // budget (epochs or steps) -> objective then
  int64_t budget = 0;                      // budget used so far
  int attempts = 0;                        // starts, retries included
  std::string error;                       // Failed: why (the last lines of its log)
  std::string log;                         // its log file
  std::string run;                         // its run name and directory (tracking)
  std::string worker;                      // host:pid of the process running it
  double started = 0, finished = 0;        // unix seconds; 0: not yet
  double heartbeat = 0;                    // unix seconds of the worker's last sign of life
};

/// Everything the search and the pruners look at.
struct Study {
  std::string name;
  std::string objective;  // `val.loss`
  bool minimize = true;
  Space space;
  std::vector<Trial> trials;  // by number

  /// `a` is strictly better than `b` in this study's direction.
  bool better(double a, double b) const { return minimize ? a < b : a > b; }
  /// A key that sorts values best first in either direction; NaN and the
  /// infinities rank below every finite value.
  double rankKey(double v) const;
  /// The best finite value `t` reported at budgets up to `budget` (its
  /// objective as a trial stopped there would have it), or nullopt.
  std::optional<double> bestUpTo(const Trial &t, int64_t budget) const;
  /// The best complete trial, or nullptr.
  const Trial *best() const;
};

}  // namespace mlcrt::tune
