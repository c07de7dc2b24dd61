// The parts of the plan manifest that describe the run rather than the step
// program: the resolved configuration (every field, defaults included), the
// names built from it, the lifecycle sections (early_stop, checkpoint,
// track) and the keys the runtime itself reads.
#pragma once

#include "graph/Graph.h"
#include "sema/Experiment.h"

#include <nlohmann/json_fwd.hpp>

namespace mlc::loops {

/// Adds "config", "naming", "lifecycle" and "flops" to the manifest `j`, and
/// appends to j["schema"] an entry for every configuration key it does not
/// list yet (those the runtime reads, and the fixed ones, marked so).
void addRunConfig(nlohmann::ordered_json &j, const sema::CheckedExperiment &exp, const graph::Module &module);

}  // namespace mlc::loops
