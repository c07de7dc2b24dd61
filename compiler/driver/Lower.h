// The lowering pipeline of one experiment, pass by pass, from sema's result
// to a planned loop program and its manifest. Each pass is its own file in
// its stage; this is the one place that says in which order they run.
#pragma once

#include "graph/Graph.h"
#include "loops/Loops.h"
#include "sema/Experiment.h"
#include "sweep/TrialGraph.h"

#include <optional>
#include <string>

namespace mlc {

/// Where to stop: the stage `--emit` prints.
enum class LowerUntil { Graph, Grad, Loops };

struct Lowered {
  graph::Module graph;
  loops::Program program;
  std::string manifest;
};

/// Reports what cannot be compiled; nullopt then.
std::optional<Lowered> lowerExperiment(const sema::CheckedExperiment &exp, Diagnostics &diags, LowerUntil until);

/// Every step program an experiment needs: one without a sweep, else one
/// per compiled variant of its trial graph, each manifest carrying the graph.
struct LoweredSweep {
  std::vector<Lowered> variants;            // [0]: the spec's own values
  std::optional<sweep::TrialGraph> trials;  // with a sweep
  std::vector<int64_t> memory;              // per variant: bytes per rank at the largest swept batch
};

/// Lowers `exp` and, with a sweep, builds its trial graph and lowers each
/// variant. A variant whose memory exceeds `memoryLimit` bytes per rank is
/// an error naming its values.
std::optional<LoweredSweep> lowerWithSweep(sema::Program &program, const sema::CheckedExperiment &exp,
                                           Diagnostics &diags, int64_t memoryLimit);

}  // namespace mlc
