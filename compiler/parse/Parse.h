// Turns one source file into an AST, reporting every lexical and syntax
// error with its location.
#pragma once

#include "diagnostics/Diagnostics.h"
#include "parse/Ast.h"

#include <memory>

namespace mlc {

/// Limits that keep the recursive parser and every later recursive pass far
/// from the stack's end on any input.
constexpr int kMaxBracketDepth = 256;
constexpr int kMaxExprDepth = 512;
/// mlp files are small; this bounds the parser's memory (ANTLR keeps every
/// token, and the parse tree, in memory at once).
constexpr size_t kMaxTokens = 1000000;

/// Returns null when the file's bytes or tokens are unusable. Otherwise the
/// tree holds every declaration that parsed; `hasErrors` says some did not.
std::unique_ptr<ast::File> parseFile(const SourceManager &sources, FileId file, Diagnostics &diags);

}  // namespace mlc
