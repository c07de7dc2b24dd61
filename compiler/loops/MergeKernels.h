// Multi-output fusion: adjacent elementwise kernels over the same domain
// become one loop making all their stores; stores nobody reads are dropped.
#pragma once

#include "loops/Loops.h"

namespace mlc::loops {

void mergeKernels(Program &program);

}  // namespace mlc::loops
