// Resolves a declaration's signature: parameter types (scalars, enums,
// lists, unions, tensor patterns), ranges, defaults and annotations.
#pragma once

#include "sema/Program.h"

namespace mlc::sema {

/// Runs once per declaration; later calls return at once.
void resolveSignature(Program &program, Decl &decl);

}  // namespace mlc::sema
