// The lowering pipeline of one experiment, pass by pass, from sema's result
// to a planned loop program and its manifest. Each pass is its own file in
// its stage; this is the one place that says in which order they run.
#pragma once

#include "graph/Graph.h"
#include "loops/Loops.h"
#include "sema/Experiment.h"

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

}  // namespace mlc
