// Tensor shape rules: matching arguments against a signature's shape
// patterns, computing result shapes, and broadcasting.
#pragma once

#include "sema/Program.h"

namespace mlc::sema {

/// Matches the tensor arguments of one call against the callee's patterns,
/// binding dimension variables across arguments (`linear`'s `in`).
class ShapeMatcher {
public:
  /// `call` is the callee's Call value: int parameters referenced in
  /// patterns take their values from it.
  ShapeMatcher(Diagnostics &diags, const Decl &callee, const Value &call) : diags_(diags), callee_(callee), call_(call) {}

  /// Reports and returns false on mismatch.
  bool match(const Param &param, const TensorType &actual, Loc at);
  /// The integer a name stands for in this call: an int argument or a
  /// dimension bound by matching.
  std::optional<int64_t> intValue(const std::string &name) const;
  /// The result type of the call; reports dimensions that cannot be computed.
  std::optional<TensorType> result(const ast::TypeExpr &pattern, Loc at);

private:
  struct Bound {
    Dim dim;
    std::string byParam;
  };
  std::optional<Dim> evalDim(const ast::Expr &e, bool &unboundVar, std::string &varName);
  std::string render(const ast::TypeExpr &pattern);

  Diagnostics &diags_;
  const Decl &callee_;
  const Value &call_;
  std::map<std::string, Bound> vars_;
  std::optional<std::vector<Dim>> ellipsis_;
  bool overflow_ = false;
};

/// Shape of `a op b` under broadcasting, or nullopt after reporting.
std::optional<TensorType> broadcast(Diagnostics &diags, const std::string &op, const TensorType &a,
                                    const TensorType &b, Loc at);

/// The rank-polymorphic tensor type written in a model's `input` statement,
/// with `batch`, int parameters and constants resolved. Names that are none
/// of these stay variables (bound by the first matching argument).
TensorType declaredTensor(const ast::TypeExpr &type, const std::map<std::string, int64_t> &ints);

}  // namespace mlc::sema
