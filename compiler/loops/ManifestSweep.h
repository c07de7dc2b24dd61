// The manifest's "sweep" and "variant" sections (runtime/abi/manifest.md):
// the trial graph the executable's tuner runs, and which compiled variant
// this manifest belongs to. The sweep keys a run may override join the
// schema here.
#pragma once

#include "sweep/TrialGraph.h"

#include <string>

namespace mlc::loops {

/// `manifest` with the trial graph and variant `index` added.
std::string addSweep(const std::string &manifest, const sweep::TrialGraph &graph, size_t index);

}  // namespace mlc::loops
