// Converts ANTLR's parse tree into the project's AST (internal to parse/).
#pragma once

#include "MlpParser.h"
#include "parse/Ast.h"
#include "parse/SourceChecks.h"

namespace mlc {

std::unique_ptr<ast::File> buildAst(mlpgen::MlpParser::FileContext *tree, FileId file, const OffsetMap &offsets,
                                    Diagnostics &diags);

}  // namespace mlc
