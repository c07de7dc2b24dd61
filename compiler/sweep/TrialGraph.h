// The sweep stage: a checked `sweep` block becomes the trial graph the
// executable runs. It holds the search space, the search algorithm, the
// pruner and its rungs, parallelism, storage, the stages after the search
// (refit the best configuration and test it, or test the best trial) and the
// compiled variants: one per distinct combination of the values of the
// parameters that change the step program. Numeric parameters are runtime
// inputs, so they never add a variant.
#pragma once

#include "sema/Experiment.h"

#include <functional>

namespace mlc::sweep {

struct Dim {
  std::string path;  // `optimizer.lr`
  std::string kind;  // uniform | loguniform | int | choice
  double low = 0, high = 0, step = 1;
  bool log = false;                 // int: drawn on a log scale
  std::vector<std::string> values;  // choice: each value as an override writes it
  bool compiled = false;            // each value compiles its own variant
  int parent = -1;                  // conditional: active when dims[parent] is one of `when`
  std::vector<std::string> when;
  Loc loc;
};

struct Rung {
  int bracket = 0;
  std::vector<int64_t> budgets;
};

/// One compiled step program: the compiled dimensions' values (by path).
struct Variant {
  std::vector<std::pair<std::string, sema::Value>> values;
  std::string label() const;  // `model.hidden = 64, model.depth = 2`
};

struct TrialGraph {
  std::string study;  // the name template
  std::string objective;
  bool minimize = true;
  std::vector<Dim> dims;
  // search
  std::string search = "random";
  int64_t seed = 0, startup = 10, candidates = 24;
  bool multivariate = false;
  // pruning: budgets in `unit`s; max 0 is the whole run (trainer.epochs)
  std::string prune = "none", unit = "epochs";
  int64_t grace = 1, reduction = 3, maxBudget = 0, warmup = 1, minTrials = 5;
  std::vector<Rung> rungs;  // asha: one; hyperband: one per bracket; empty: none, median
  // running
  int64_t trials = 20, parallel = 1, retries = 1;
  std::string storage = "sqlite", storagePath, storageUrl, storageUrlEnv;
  // after the search
  bool refit = true;
  int64_t ensemble = 0;  // test the average of the best k trials too; 0: no
  std::vector<Variant> variants;  // [0]: the spec's own values
};

/// Limits the step programs one sweep compiles.
constexpr size_t kMaxVariants = 64;

/// Builds the trial graph of `exp`'s sweep. `runtimeKey` says whether a key
/// is a runtime input of the compiled program (an override changes it
/// without compiling again); swept keys that are not become compiled
/// dimensions. Reports what cannot be run (too many variants, a compiled
/// key with a continuous domain) and returns nullopt then.
std::optional<TrialGraph> buildTrialGraph(const sema::CheckedExperiment &exp,
                                          const std::function<bool(const std::string &)> &runtimeKey,
                                          Diagnostics &diags);

}  // namespace mlc::sweep
