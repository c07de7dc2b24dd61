// Checks each model declaration on its own, before any instantiation: the
// types of its inputs and outputs, redefined names, and that every name in
// its body resolves, even in code no instantiation reaches (a model nobody
// uses yet, the body of `repeat 0`).
#pragma once

#include "sema/Program.h"

namespace mlc::sema {

/// Reports what is wrong; adds the model to program.brokenModels if anything is.
void checkModelDecl(Program &program, Decl &model);

}  // namespace mlc::sema
