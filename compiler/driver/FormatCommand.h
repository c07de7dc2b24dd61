// `mlc fmt [--check | --stdout] FILE...`: rewrites files in the canonical
// layout, reports those that are not in it, or prints the layout.
#pragma once

#include "diagnostics/Diagnostics.h"

#include <string>
#include <vector>

namespace mlc {

enum class FormatMode { Rewrite, Check, Stdout };

/// Returns the exit code: 0, or 1 when a file does not parse, cannot be
/// written, or (`Check`) is not formatted.
int runFormat(const std::vector<std::string> &files, FormatMode mode, SourceManager &sources, Diagnostics &diags);

}  // namespace mlc
