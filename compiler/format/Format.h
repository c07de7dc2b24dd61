// `mlc fmt`: lays a source file out in the one canonical style, keeping its
// comments and every token of the program (docs/formatting.md).
#pragma once

#include "diagnostics/Diagnostics.h"

#include <optional>
#include <string>

namespace mlc::format {

/// Columns a formatted line aims to stay within.
constexpr int kLineWidth = 100;

/// The file's text in canonical layout, or nothing (after reporting why) when
/// the file does not parse.
std::optional<std::string> formatFile(const SourceManager &sources, FileId file, Diagnostics &diags);

}  // namespace mlc::format
