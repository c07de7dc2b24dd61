// Lowers a graph module to the loop IR: one kernel (or GEMM) per node,
// one buffer per value, state at fixed offsets, runtime inputs and outputs
// in io slots. Fusion and memory planning come after.
#pragma once

#include "graph/Graph.h"
#include "loops/Loops.h"

namespace mlc::loops {

Program lowerToLoops(const graph::Module &module);

}  // namespace mlc::loops
