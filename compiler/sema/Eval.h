// Evaluates mlp expressions at compile time: constants, references to
// declarations, calls with their arguments checked against the callee's
// signature, and tensor expressions with symbolic shapes.
#pragma once

#include "sema/Program.h"
#include "sema/Signatures.h"

#include <functional>
#include <map>

namespace mlc::sema {

/// Names bound by parameters, `let`/`output` statements and loop variables.
struct Scope {
  std::map<std::string, Value> values;
  const Scope *parent = nullptr;

  const Value *find(const std::string &name) const {
    for (const Scope *s = this; s; s = s->parent) {
      auto it = s->values.find(name);
      if (it != s->values.end()) return &it->second;
    }
    return nullptr;
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const Scope *s = this; s; s = s->parent)
      for (auto &[n, v] : s->values) out.push_back(n);
    return out;
  }
};

class Evaluator {
public:
  Evaluator(Program &program, FileId file) : p_(program), file_(file) {}

  /// Evaluates `e`. `expected`, when given, directs how bare names resolve
  /// (an enum value, a metric, a declaration of some kind) but is not
  /// enforced: call conform() for that. Reports and returns nullopt on error.
  std::optional<Value> eval(const ast::Expr &e, const Type *expected, const Scope &scope);

  /// Checks `v` against `t`, converting int to float where a float is
  /// expected. `what` names the thing for messages ("argument `lr` of `adamw`").
  bool conform(Value &v, const Type &t, const std::string &what, Loc at);
  bool checkRange(const Value &v, const Interval &range, const std::string &what, Loc at);

  /// Calls a declaration with already evaluated arguments (`args` by name,
  /// `positional` in order). Used for bare names (`accuracy`) too.
  std::optional<Value> callDecl(const Decl &d, const ast::Expr *call, const Scope &scope, Loc at);

  /// Set by the model checker: instantiates a model called inside another
  /// model's body with tensor arguments.
  std::function<std::optional<Value>(const Decl &model, std::vector<Value> tensors,
                                     std::vector<NamedValue> params, Loc at)>
      instantiateModel;
  /// Set by the model checker: records each layer call (for the op list).
  /// It may stamp `result` (with its node id).
  std::function<void(const Value &call, Value &result)> onLayerCall;

  Program &program() { return p_; }
  FileId file() const { return file_; }

private:
  std::optional<Value> evalName(const ast::Expr &e, const Type *expected, const Scope &scope);
  std::optional<Value> evalBinary(const ast::Expr &e, const Type *expected, const Scope &scope);
  std::optional<Value> evalCall(const ast::Expr &e, const Scope &scope);

  Program &p_;
  FileId file_;
};

}  // namespace mlc::sema
