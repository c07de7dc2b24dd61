// Prints what sema resolved (`mlc --emit=sema`): each experiment's full
// configuration with defaults, tensor shapes through the model, the metrics
// produced and the sweep space. Stable for FileCheck.
#pragma once

#include "sema/Sema.h"

#include <iosfwd>

namespace mlc::sema {

void dumpSema(const SemaResult &result, std::ostream &out);

}  // namespace mlc::sema
