// The fields an experiment may set: types, ranges, defaults and a line of
// documentation each. Sema checks experiments against it; the language
// server completes and explains fields from it.
#pragma once

#include "sema/Fields.h"

namespace mlc::sema {

/// Defaults that call library declarations (`schedule = constant()`) use `eval`.
std::vector<FieldSpec> experimentSchema(Evaluator &eval);

}  // namespace mlc::sema
