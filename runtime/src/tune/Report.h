// `./exp report`: one self-contained HTML page about a study, with inline
// SVG plots (optimisation history, parallel coordinates, parameter
// importance, learning curves with the pruned trials marked). No scripts,
// fonts or styles from the network: it reads the same offline.
#pragma once

#include "src/tune/Study.h"

namespace mlcrt::tune {

struct ReportInfo {
  std::string title;        // the experiment
  std::string budgetUnit;   // epochs | steps
  std::string search, pruner;  // as the trial graph prints them
  std::vector<std::pair<std::string, std::string>> extra;  // more key/value lines for the header table
};

std::string renderReport(const Study &study, const ReportInfo &info);

/// Each parameter's share of the objective's variance (they sum to 1 when
/// any varies), from the complete trials: the variance of the objective's
/// mean within bins of the parameter, over the objective's variance.
std::vector<std::pair<std::string, double>> parameterImportance(const Study &study);

}  // namespace mlcrt::tune
