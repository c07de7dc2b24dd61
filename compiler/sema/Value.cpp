#include "sema/Value.h"

#include "parse/AstDump.h"
#include "sema/Program.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace mlc::sema {

namespace {


// Range bounds read as written: `in [1, 8]`, `in [0, 1)`.
std::string bound(double v) { return fmt::format("{}", v); }

}  // namespace

const std::vector<std::string> &dtypeNames() {
  static const std::vector<std::string> names = {"f32", "f16", "bf16", "f64", "i32", "i64", "u8", "bool"};
  return names;
}

bool isDtype(const std::string &name) {
  const auto &names = dtypeNames();
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string toString(const Dim &d) {
  switch (d.kind) {
  case Dim::Const: return std::to_string(d.size);
  case Dim::Batch: return "batch";
  case Dim::Var: return d.var;
  }
  return "?";
}

std::string toString(const TensorType &t) {
  std::string out = t.dtype + "[";
  for (size_t i = 0; i < t.dims.size(); ++i) out += (i ? ", " : "") + toString(t.dims[i]);
  return out + "]";
}

std::string withArticle(const std::string &kind) {
  bool vowel = !kind.empty() && std::string("aeio").find(kind[0]) != std::string::npos;
  return (vowel ? "an " : "a ") + kind;
}

std::string toString(const Type &t) {
  switch (t.kind) {
  case Type::Int: return "int";
  case Type::Float: return "float";
  case Type::Bool: return "bool";
  case Type::String: return "string";
  case Type::Range: return "range";
  case Type::Any: return "any";
  case Type::MetricName: return "metric";
  case Type::Objective: return "objective";
  case Type::Template: return "template";
  case Type::Notification: return "notification";
  case Type::Tensor: return "tensor";
  case Type::Enum: {
    std::string out;
    for (size_t i = 0; i < t.enumValues.size(); ++i) out += (i ? ", " : "") + t.enumValues[i];
    return "enum(" + out + ")";
  }
  case Type::List: return "list[" + toString(*t.element) + "]";
  case Type::Decl: return t.declKind;
  case Type::Union: {
    std::string out;
    for (size_t i = 0; i < t.alternatives.size(); ++i) out += (i ? " | " : "") + toString(t.alternatives[i]);
    return out;
  }
  }
  return "?";
}

bool Interval::contains(double v) const {
  if (std::isnan(v)) return false;
  if (lo && (loInclusive ? v < *lo : v <= *lo)) return false;
  if (hi && (hiInclusive ? v > *hi : v >= *hi)) return false;
  if (excluded && v == *excluded) return false;
  return true;
}

std::string Interval::toString() const {
  if (excluded) return "!= " + bound(*excluded);
  if (lo && hi) return fmt::format("in {}{}, {}{}", loInclusive ? "[" : "(", bound(*lo), bound(*hi), hiInclusive ? "]" : ")");
  if (lo) return (loInclusive ? ">= " : "> ") + bound(*lo);
  if (hi) return (hiInclusive ? "<= " : "< ") + bound(*hi);
  return "any value";
}

const Value *Value::arg(const std::string &name) const {
  for (const auto &[n, v] : fields)
    if (n == name) return &v;
  return nullptr;
}

std::string toString(const Value &v) {
  switch (v.kind) {
  case Value::None: return "none";
  case Value::Int: return std::to_string(v.i);
  case Value::Float: return formatFloat(v.f);
  case Value::Bool: return v.b ? "true" : "false";
  case Value::String: {
    std::string out = "\"";  // escaped as the source would write it
    for (char c : v.s) {
      if (c == '"' || c == '\\') out.push_back('\\');
      if (c == '\n') out += "\\n";
      else if (c == '\t') out += "\\t";
      else out.push_back(c);
    }
    return out + "\"";
  }
  case Value::Enum: return v.s;
  case Value::MetricRef: return v.s;
  case Value::Range: return toString(v.items[0]) + ".." + toString(v.items[1]);
  case Value::Tensor: return toString(*v.tensor);
  case Value::List: {
    std::string sep = v.s == "then" ? " then " : ", ";
    std::string out;
    for (size_t i = 0; i < v.items.size(); ++i) out += (i ? sep : "") + toString(v.items[i]);
    return v.s == "then" ? out : "[" + out + "]";
  }
  case Value::Record: {
    std::string out;
    for (size_t i = 0; i < v.fields.size(); ++i) out += (i ? ", " : "") + v.fields[i].first + ": " + toString(v.fields[i].second);
    return "{" + out + "}";
  }
  case Value::Call: {
    std::string out = v.callee ? v.callee->name : "?";
    out += "(";
    for (size_t i = 0; i < v.fields.size(); ++i) out += (i ? ", " : "") + v.fields[i].first + " = " + toString(v.fields[i].second);
    return out + ")";
  }
  }
  return "?";
}

std::string describe(const Value &v) {
  switch (v.kind) {
  case Value::Int: return "int " + toString(v);
  case Value::Float: return "float " + toString(v);
  case Value::Bool: return "bool " + toString(v);
  case Value::String: return "string " + toString(v);
  case Value::Enum: return "`" + v.s + "`";
  case Value::Range: return "range " + toString(v);
  case Value::Tensor: return "tensor `" + toString(*v.tensor) + "`";
  case Value::List: return v.s == "then" ? "a schedule chain" : "a list";
  case Value::Record: return "a record";
  case Value::Call: return v.callee ? v.callee->kindWithArticle() + " `" + v.callee->name + "`" : "a call";
  case Value::MetricRef: return "metric `" + v.s + "`";
  case Value::None: return "nothing";
  }
  return "?";
}

Value Value::ofInt(int64_t n) {
  Value v;
  v.kind = Int;
  v.i = n;
  return v;
}
Value Value::ofFloat(double x) {
  Value v;
  v.kind = Float;
  v.f = x;
  return v;
}
Value Value::ofBool(bool b) {
  Value v;
  v.kind = Bool;
  v.b = b;
  return v;
}
Value Value::ofString(std::string s) {
  Value v;
  v.kind = String;
  v.s = std::move(s);
  return v;
}
Value Value::ofEnum(std::string s) {
  Value v;
  v.kind = Enum;
  v.s = std::move(s);
  return v;
}

}  // namespace mlc::sema
