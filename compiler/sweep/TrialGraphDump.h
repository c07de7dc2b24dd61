// `mlc --emit=trials`: the trial graph as stable text for FileCheck.
#pragma once

#include "sweep/TrialGraph.h"

#include <string>

namespace mlc::sweep {

/// `memory` holds each variant's bytes per rank at the largest swept batch.
std::string dumpTrialGraph(const TrialGraph &graph, const std::vector<int64_t> &memory);

}  // namespace mlc::sweep
