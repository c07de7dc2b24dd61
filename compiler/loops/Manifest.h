// Writes the plan manifest (runtime/abi/manifest.md): what the runtime
// needs to know about the experiment that is not code — the data source,
// the schema of overridable keys, the state and io layout, the metrics.
#pragma once

#include "graph/Graph.h"
#include "loops/Loops.h"
#include "sema/Experiment.h"

#include <string>

namespace mlc::loops {

std::string writeManifest(const sema::CheckedExperiment &exp, const graph::Module &module, const Program &program,
                          const SourceManager &sources);

}  // namespace mlc::loops
