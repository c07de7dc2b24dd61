// Prints a graph module (`mlc --emit=graph` and `--emit=grad`): state,
// runtime scalars, then each function's nodes in order, one per line.
#pragma once

#include "graph/Graph.h"

#include <string>

namespace mlc::graph {

std::string dumpModule(const Module &m);

}  // namespace mlc::graph
