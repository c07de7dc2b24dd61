// Assigns every scratch buffer an offset by liveness (buffers whose
// lifetimes do not overlap share bytes; an elementwise kernel may write
// over an input that dies with it) and sizes the arenas.
#pragma once

#include "loops/Loops.h"

namespace mlc::loops {

void planMemory(Program &program);

/// Bytes one rank holds for a step at `batch`: state, scratch and io.
int64_t bytesPerRank(const Program &program, int64_t batch);

}  // namespace mlc::loops
