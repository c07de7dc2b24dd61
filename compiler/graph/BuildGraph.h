// Builds the graph IR of one experiment from sema's result: the model's
// operations with their parameters, the loss, and two functions — the
// training forward (`train_step`, dropout on; autodiff and the optimizer
// extend it) and the evaluation forward (`eval_step`, dropout off).
#pragma once

#include "graph/Graph.h"
#include "sema/Experiment.h"

#include <optional>

namespace mlc::graph {

/// Reports what cannot be compiled (with the source location) and returns
/// nullopt then.
std::optional<Module> buildGraph(const sema::CheckedExperiment &exp, Diagnostics &diags);

/// The model output the loss scores (its first tensor operand): the value
/// the runtime reads as predictions.
std::string predictionName(const sema::CheckedExperiment &exp);

}  // namespace mlc::graph
