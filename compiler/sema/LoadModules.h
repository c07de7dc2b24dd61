// Pass 1: parses the root file and every module it imports (plus the std
// prelude), declares their names and resolves imports.
#pragma once

#include "sema/Program.h"

namespace mlc::sema {

/// Returns false when the root file could not be parsed at all.
bool loadModules(Program &program, FileId root);

}  // namespace mlc::sema
