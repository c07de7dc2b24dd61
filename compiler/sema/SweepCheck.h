// Checks a `sweep` block: each `path ~ space` against the swept parameter's
// type and range, finiteness of structural and grid domains, and every
// structural variant of the model.
#pragma once

#include "sema/Eval.h"
#include "sema/Experiment.h"

namespace mlc::sema {

bool checkSweep(Program &program, Evaluator &eval, CheckedExperiment &exp);

}  // namespace mlc::sema
