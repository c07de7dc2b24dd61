// The rules that tie a distributed strategy to the batch and the model:
// data-parallel devices must split the batch evenly, pipeline microbatches
// must too, and a pipeline cannot have more stages than the model has layers.
#pragma once

#include "sema/ModelCheck.h"

namespace mlc::sema {

/// `batch` is the global batch (its loc is where a batch error is shown).
bool checkStrategyRules(Program &program, const Value &strategy, const Value &batch, const ModelInstance &model);

}  // namespace mlc::sema
