// Checks a `sweep` block: each `path ~ space` against the swept parameter's
// type and range, finiteness of structural and grid domains, and every
// structural variant of the model.
#pragma once

#include "sema/Eval.h"
#include "sema/Experiment.h"

namespace mlc::sema {

bool checkSweep(Program &program, Evaluator &eval, CheckedExperiment &exp);

/// `exp` with `values` (`model.hidden` = 64, `trainer.grad_clip` = 1.0)
/// in place of its own, the model instantiated again: one compiled variant
/// of a sweep. Reports and returns nullopt when the model does not check.
std::optional<CheckedExperiment> instantiateVariant(Program &program, const CheckedExperiment &exp,
                                                    const std::vector<std::pair<std::string, Value>> &values);

}  // namespace mlc::sema
