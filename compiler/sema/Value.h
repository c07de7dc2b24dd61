// The values and types sema computes: constants, references to declarations
// with their checked arguments, tensor types with symbolic shapes.
#pragma once

#include "diagnostics/SourceManager.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mlc::sema {

struct Decl;

/// One tensor dimension: a known size, the symbolic batch, or a variable
/// (`d` in a layer signature, bound when the layer is called).
struct Dim {
  enum Kind { Const, Batch, Var } kind = Const;
  int64_t size = 0;
  std::string var;

  static Dim constant(int64_t n) { return {Const, n, {}}; }
  static Dim batch() { return {Batch, 0, {}}; }
  bool operator==(const Dim &o) const { return kind == o.kind && size == o.size && var == o.var; }
};

struct TensorType {
  std::string dtype;  // f32, bf16, f16, i64, i32, bool
  std::vector<Dim> dims;
  bool operator==(const TensorType &o) const { return dtype == o.dtype && dims == o.dims; }
};

/// Element types a tensor may have.
const std::vector<std::string> &dtypeNames();
bool isDtype(const std::string &name);

std::string toString(const Dim &d);
std::string toString(const TensorType &t);  // `f32[batch, 64]`

/// A declared type of a parameter or field.
struct Type {
  enum Kind {
    Int, Float, Bool, String, Range,
    Enum,     // enumValues
    Tensor,   // a pattern, kept as written: sema/Shapes.h matches it
    List,     // element
    Decl,     // a reference to a declaration of `declKind` (optimizer, metric, ...)
    Union,    // alternatives
    MetricName,    // `val.loss`
    Objective,     // `minimize val.loss`
    Template,      // a string with `{field}` placeholders
    Notification,  // `webhook(url) on [finish, failure]`
    Any,
  } kind = Any;
  std::vector<std::string> enumValues;
  std::string declKind;
  std::shared_ptr<Type> element;
  std::vector<Type> alternatives;

  static Type of(Kind k) { Type t; t.kind = k; return t; }
  static Type decl(std::string kind) { Type t; t.kind = Decl; t.declKind = std::move(kind); return t; }
  static Type enumOf(std::vector<std::string> values) { Type t; t.kind = Enum; t.enumValues = std::move(values); return t; }
  static Type listOf(Type e) { Type t; t.kind = List; t.element = std::make_shared<Type>(std::move(e)); return t; }
};

/// `an optimizer`, `a loss`: a kind name with its article, for messages.
std::string withArticle(const std::string &kind);

std::string toString(const Type &t);  // `int`, `enum(min, max)`, `list[metric]`, `an optimizer`

/// A numeric constraint: `in [lo, hi)` or a one-sided bound.
struct Interval {
  std::optional<double> lo, hi;
  bool loInclusive = true, hiInclusive = true;
  std::optional<double> excluded;  // `!= x`

  bool contains(double v) const;
  std::string toString() const;   // `in [0, 1)`, `> 0`
};

struct NamedValue;  // a (name, value) pair; std::pair cannot hold the incomplete Value

/// A compile-time value. Calls keep the callee and their arguments, with
/// defaults filled in, so later stages see every knob explicitly.
struct Value {
  enum Kind {
    None, Int, Float, Bool, String, Enum, Range, List, Record,
    Call,       // callee + args (by parameter, in declaration order)
    Tensor,     // a symbolic tensor inside a model or a loss expression
    MetricRef,  // `val.loss`
  } kind = None;
  Loc loc;
  int64_t i = 0;
  double f = 0;
  bool b = false;
  std::string s;                                       // String, Enum, MetricRef
  std::vector<Value> items;                            // List; Range: lo, hi
  std::vector<NamedValue> fields;   // Record; Call arguments
  std::vector<bool> defaulted;                         // Call: which arguments came from defaults
  const sema::Decl *callee = nullptr;                  // Call
  std::shared_ptr<TensorType> tensor;                  // Tensor
  /// Tensor: which value of the model expansion it is (OpRecord ids);
  /// -1 outside a model body. In the loss expression `s` names the tensor
  /// instead (`label`, a model output).
  int64_t node = -1;
  /// Where a number came from when it is a hyperparameter passed along
  /// unchanged (`model.p`): code generation makes such values runtime inputs.
  std::string origin;

  // Defined in Value.cpp: NamedValue is incomplete here.
  static Value ofInt(int64_t n);
  static Value ofFloat(double x);
  static Value ofBool(bool b);
  static Value ofString(std::string s);
  static Value ofEnum(std::string s);

  bool isNumber() const { return kind == Int || kind == Float; }
  double number() const { return kind == Int ? double(i) : f; }
  const Value *arg(const std::string &name) const;
};

struct NamedValue {
  NamedValue(std::string name, Value value, Loc nameLoc = {})
      : first(std::move(name)), second(std::move(value)), nameLoc(nameLoc) {}
  std::string first;
  Value second;
  Loc nameLoc;  // record keys: where the key is written
};

// `auto &[name, value] : call.fields` binds the name and the value only.
template <std::size_t I> auto &get(NamedValue &nv) {
  if constexpr (I == 0) return nv.first;
  else return nv.second;
}
template <std::size_t I> const auto &get(const NamedValue &nv) {
  if constexpr (I == 0) return nv.first;
  else return nv.second;
}

std::string toString(const Value &v);  // as mlp source would write it
std::string describe(const Value &v);  // for messages: "float 0.5", "`f32[batch, 10]`"

}  // namespace mlc::sema

template <> struct std::tuple_size<mlc::sema::NamedValue> : std::integral_constant<std::size_t, 2> {};
template <> struct std::tuple_element<0, mlc::sema::NamedValue> { using type = std::string; };
template <> struct std::tuple_element<1, mlc::sema::NamedValue> { using type = mlc::sema::Value; };
