// `mlc lsp`: a Language Server Protocol server over stdio. It keeps the open
// documents, type-checks each on open and change (publishing the compiler's
// diagnostics), and answers hover, definition, completion and formatting.
#pragma once

#include <iosfwd>
#include <string>

namespace mlc::lsp {

/// Serves until `exit`; returns the process exit code (0 after `shutdown`).
int serve(std::istream &in, std::ostream &out, const std::string &stdlibDir);

}  // namespace mlc::lsp
