// Name templates such as "{model}-bs{batch}": checks that every placeholder
// names a field of the experiment.
#pragma once

#include "sema/Experiment.h"

namespace mlc::sema {

/// Shorthands a template may use for common fields: `{lr}` is
/// `{optimizer.lr}`. The runtime resolves them from the manifest's copy.
const std::vector<std::pair<std::string, std::string>> &templateAliases();

/// The placeholders a template may use, derived from the resolved fields.
std::vector<std::string> templateFields(const CheckedExperiment &exp);

/// Reports unknown or malformed placeholders in the string literal at `at`.
bool checkTemplate(Program &program, const Value &text, const std::vector<std::string> &allowed);

}  // namespace mlc::sema
