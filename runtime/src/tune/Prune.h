// The pruners: whether a running trial that just reported its objective at
// `budget` (epochs or steps of training) should stop. They read only the
// study, so every worker sharing a study decides the same way.
#pragma once

#include "src/tune/Study.h"

namespace mlcrt::tune {

struct PruneSpec {
  std::string kind = "none";  // none | median | asha | hyperband
  int64_t grace = 1;          // asha, hyperband: the first rung's budget
  int64_t reduction = 3;      // asha, hyperband: keep the best 1/reduction at each rung
  int64_t maxBudget = 1;      // the full budget of a trial (trainer.epochs, or its steps)
  int64_t warmup = 1;         // median: no pruning before this budget
  int64_t minTrials = 5;      // median: finished trials needed before pruning
};

/// The budgets at which trials are compared: asha's rungs grace * reduction^k
/// below maxBudget; hyperband's rungs of bracket `bracket`; empty for median
/// (which compares at every report) and none.
std::vector<int64_t> rungs(const PruneSpec &spec, int bracket = 0);

/// Hyperband: how many brackets there are, and the one trial `number` is in.
int bracketCount(const PruneSpec &spec);
int bracketOf(const PruneSpec &spec, int number);

/// Whether `trial` (whose intermediate values include the one at `budget`)
/// should stop now. Trials compared against are the study's other trials,
/// whatever their state, that reported at that budget.
bool shouldPrune(const PruneSpec &spec, const Study &study, const Trial &trial, int64_t budget);

}  // namespace mlcrt::tune
