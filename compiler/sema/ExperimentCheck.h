// Checks an `experiment`: every section against its schema, the model
// against the data, the loss against the model, monitors against the
// metrics produced, name templates, and distributed-strategy rules.
#pragma once

#include "sema/Experiment.h"

namespace mlc::sema {

/// Reports every error found; returns nullopt if there were any.
std::optional<CheckedExperiment> checkExperiment(Program &program, const Decl &experiment);

}  // namespace mlc::sema
