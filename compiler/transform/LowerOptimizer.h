// Lowers the optimizer into the step program: gradient accumulation,
// clipping by global norm, the learning-rate schedule and the update of
// every parameter (SGD with momentum/Nesterov, Adam, AdamW, RMSprop), all
// as graph ops. Numeric hyperparameters become runtime scalars, so a sweep
// over them never recompiles.
#pragma once

#include "sema/Experiment.h"
#include "transform/Autodiff.h"

namespace mlc::transform {

/// Extends `train_step` (and adds `apply_step` when gradients accumulate
/// over several batches). Reports what it cannot lower.
bool lowerOptimizer(graph::Module &m, const std::vector<ParamGrad> &grads, const sema::CheckedExperiment &exp,
                    Diagnostics &diags);

}  // namespace mlc::transform
