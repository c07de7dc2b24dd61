// Checks `name = value` fields and `name { ... }` blocks against a schema:
// unknown, duplicate, missing and mistyped fields, ranges and defaults.
#pragma once

#include "sema/Eval.h"

#include <functional>

namespace mlc::sema {

struct FieldSpec {
  std::string name;
  Type type;
  bool required = false;
  std::optional<Interval> range;
  /// Builds the default when the field is absent (null: no default).
  std::function<std::optional<Value>()> makeDefault;
  std::vector<FieldSpec> block;  // non-empty: written `name { ... }`
  std::string doc;               // one line for hover and the reference
  bool deferred = false;         // evaluated later by the caller (needs a richer scope)
  bool defaultBlock = false;     // an absent block is filled with its defaults
  bool isBlock() const { return !block.empty(); }
};

struct CheckedField {
  Value value;     // Record for blocks
  const ast::Expr *expr = nullptr;  // deferred fields: the expression to evaluate
  Loc loc;         // where it was set (invalid when defaulted)
  bool defaulted = false;
};

using CheckedFields = std::map<std::string, CheckedField>;

/// Checks `fields` (the body of `context`, e.g. "`trainer`") against
/// `specs`. Blocks are checked recursively, their fields stored as a Record.
/// `path ~ space` entries are reported unless `allowSweep` (the sweep block
/// checks them itself).
CheckedFields checkFields(Evaluator &eval, const std::vector<ast::Field> &fields, const std::vector<FieldSpec> &specs,
                          const std::string &context, Loc contextLoc, const Scope &scope, bool &ok,
                          bool allowSweep = false);

/// A default that is always `v`.
std::function<std::optional<Value>()> constant(Value v);

/// Makes a zero-argument call to a declaration visible from `file` (defaults
/// such as `constant()`).
std::function<std::optional<Value>()> callDefault(Evaluator &eval, std::string name);

}  // namespace mlc::sema
