// Reverse-mode automatic differentiation as a graph-to-graph pass: appends
// the adjoint of every value between the parameters and the `loss` output
// to the same function, using only graph ops (so fusion and codegen see
// the backward pass like any other code).
#pragma once

#include "graph/Graph.h"

#include <vector>

namespace mlc::transform {

struct ParamGrad {
  int state;  // the parameter (Module::states)
  int grad;   // the value holding d loss / d parameter
};

/// Differentiates `f`'s `loss` output with respect to every parameter it
/// reads; returns one gradient per parameter, ordered by state.
std::vector<ParamGrad> differentiate(graph::Module &m, graph::Function &f);

}  // namespace mlc::transform
