// The type checker: runs sema's passes in order over a root file and the
// modules it imports. `mlc check` and `mlc --emit=sema` stop here.
#pragma once

#include "sema/Experiment.h"

namespace mlc::sema {

struct SemaResult {
  std::unique_ptr<Program> program;
  std::vector<CheckedExperiment> experiments;
};

/// Reports every error it finds; check `diags.hasErrors()` for the outcome.
SemaResult analyze(SourceManager &sources, Diagnostics &diags, FileId root, const std::string &stdlibDir);

}  // namespace mlc::sema
