// Prints an AST as an indented tree (`mlc --emit=ast`), stable for FileCheck.
#pragma once

#include "parse/Ast.h"

#include <iosfwd>

namespace mlc {

void dumpAst(const ast::File &file, const SourceManager &sources, std::ostream &out);

/// An expression as an S-expression: `(call adamw lr=0.001)`.
std::string exprToString(const ast::Expr &e);
std::string typeToString(const ast::TypeExpr &t);
/// A float as mlp would write it, always with a `.` or exponent (`2.0`).
std::string formatFloat(double v);

}  // namespace mlc
