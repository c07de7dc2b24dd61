// Prints the planned loop program (`mlc --emit=plan`): buffers with their
// region, size and offset, the peak bytes, and every step of every function.
#pragma once

#include "loops/Loops.h"

#include <string>

namespace mlc::loops {

std::string dumpPlan(const Program &program, int64_t batch);

}  // namespace mlc::loops
