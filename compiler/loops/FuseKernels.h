// Fuses chains of elementwise kernels: a producer whose result is read by
// one consumer at the same index is inlined into it and its buffer dropped.
#pragma once

#include "loops/Loops.h"

namespace mlc::loops {

void fuseKernels(Program &program);

}  // namespace mlc::loops
