// Completion for the language server: what may be written at the cursor,
// read from the text before it (which is often mid-edit and does not parse)
// and from the last type-checked state of the document.
#pragma once

#include "lsp/Analysis.h"

namespace mlc::lsp {

/// LSP CompletionItem objects at `at` in `now`'s text. `checked` is the
/// latest analysis of the document without errors (may be `now`, or null):
/// it knows the metric names an experiment produces.
nlohmann::json complete(const Analysis &now, const Analysis *checked, Position at);

}  // namespace mlc::lsp
