#include "sema/Eval.h"

#include "parse/AstDump.h"
#include "sema/Shapes.h"

#include <cmath>
#include <set>

namespace mlc::sema {

namespace {

const std::set<std::string> kSplits = {"train", "val", "test"};

std::string expectedText(const Type &t) {
  if (t.kind == Type::Decl) return withArticle(t.declKind);
  if (t.kind == Type::MetricName) return "a metric such as `val.loss`";
  if (t.kind == Type::Objective) return "`minimize <metric>` or `maximize <metric>`";
  if (t.kind == Type::Notification) return "a notifier such as `webhook(url) on [failure]`";
  if (t.kind == Type::Template) return "a string";
  return "`" + toString(t) + "`";
}

Value make(Value::Kind kind, Loc at) {
  Value v;
  v.kind = kind;
  v.loc = at;
  return v;
}

}  // namespace

// ---------------------------------------------------------------------------
// Types of values

namespace {

bool fits(const Value &v, const Type &t) {
  switch (t.kind) {
  case Type::Any: return true;
  case Type::Int: return v.kind == Value::Int;
  case Type::Float: return v.isNumber();
  case Type::Bool: return v.kind == Value::Bool;
  case Type::String:
  case Type::Template:
    if (v.kind == Value::String) return true;
    return v.kind == Value::Call && v.callee && v.callee->kindName() == "function" && v.callee->ext &&
           v.callee->ext->result && v.callee->ext->result->name.text == "string";
  case Type::Range: return v.kind == Value::Range;
  case Type::Enum:
    return v.kind == Value::Enum &&
           std::find(t.enumValues.begin(), t.enumValues.end(), v.s) != t.enumValues.end();
  case Type::Tensor: return v.kind == Value::Tensor;
  case Type::List:
    if (v.kind != Value::List || v.s == "then") return false;
    for (const Value &item : v.items)
      if (!fits(item, *t.element)) return false;
    return true;
  case Type::Decl:
    if (v.kind == Value::Call && v.callee) {
      // Datasets and models are declared, never `extern` (`extern dataset x` is rejected).
      if (t.declKind == "dataset") return v.callee->kind == Decl::Dataset;
      if (t.declKind == "model") return v.callee->kind == Decl::Model;
      return v.callee->kind == Decl::Extern && v.callee->kindName() == t.declKind;
    }
    if (v.kind == Value::List && v.s == "then" && t.declKind == "schedule") {
      for (const Value &item : v.items)
        if (!fits(item, t)) return false;
      return true;
    }
    return false;
  case Type::Union:
    for (const Type &alt : t.alternatives)
      if (fits(v, alt)) return true;
    return false;
  case Type::MetricName: return v.kind == Value::MetricRef;
  case Type::Objective: return v.kind == Value::Record && v.s == "objective";
  case Type::Notification:
    if (v.kind == Value::Record && v.s == "on") return true;
    if (v.kind == Value::Call && v.callee) return v.callee->kindName() == "notifier";
    if (v.kind == Value::List && v.s != "then") {
      for (const Value &item : v.items)
        if (!fits(item, t)) return false;
      return true;
    }
    return false;
  }
  return false;
}

void coerce(Value &v, const Type &t) {
  if (t.kind == Type::Float && v.kind == Value::Int) {
    v.kind = Value::Float;
    v.f = double(v.i);
  } else if (t.kind == Type::List && v.kind == Value::List) {
    for (Value &item : v.items) coerce(item, *t.element);
  }
}

}  // namespace

bool Evaluator::conform(Value &v, const Type &t, const std::string &what, Loc at) {
  if (fits(v, t)) {
    coerce(v, t);
    return true;
  }
  if (t.kind == Type::Enum && v.kind == Value::Enum) {
    std::string values;
    for (size_t i = 0; i < t.enumValues.size(); ++i) values += (i ? ", `" : "`") + t.enumValues[i] + "`";
    p_.diags.reportUnknown(Diag::UnknownEnumValue, at, v.s, t.enumValues, v.s, what, values);
    return false;
  }
  // A list where one element is wrong: point at the element.
  if (t.kind == Type::List && v.kind == Value::List && v.s != "then") {
    for (Value &item : v.items)
      if (!fits(item, *t.element)) return conform(item, *t.element, "each element of " + what, item.loc);
  }
  Diagnostic &d = p_.diags.report(Diag::TypeMismatch, at, what, expectedText(t), describe(v));
  if (t.kind == Type::MetricName && v.kind == Value::Call && v.callee && v.callee->kindName() == "metric") {
    std::string named = "val." + v.callee->name;
    d.note(fmt::format("did you mean `{}`?", named)).fix(at, named);
  }
  return false;
}

bool Evaluator::checkRange(const Value &v, const Interval &range, const std::string &what, Loc at) {
  if (!v.isNumber() || range.contains(v.number())) return true;
  p_.diags.report(Diag::OutOfRange, at, what, toString(v), range.toString());
  return false;
}

// ---------------------------------------------------------------------------
// Expressions

std::optional<Value> Evaluator::eval(const ast::Expr &e, const Type *expected, const Scope &scope) {
  using K = ast::ExprKind;
  switch (e.kind) {
  case K::Int: {
    Value v = make(Value::Int, e.loc);
    v.i = e.intValue;
    return v;
  }
  case K::Float: {
    Value v = make(Value::Float, e.loc);
    v.f = e.floatValue;
    return v;
  }
  case K::String: {
    Value v = make(Value::String, e.loc);
    v.s = e.text;
    return v;
  }
  case K::Bool: {
    Value v = make(Value::Bool, e.loc);
    v.b = e.boolValue;
    return v;
  }
  case K::Name: return evalName(e, expected, scope);
  case K::Member: {
    bool metricExpected = expected && expected->kind == Type::MetricName;
    if (e.lhs->kind == K::Name && (kSplits.count(e.lhs->text) || metricExpected) && !scope.find(e.lhs->text)) {
      Value v = make(Value::MetricRef, e.loc);
      v.s = e.lhs->text + "." + e.text;
      return v;
    }
    auto base = eval(*e.lhs, nullptr, scope);
    if (!base) return std::nullopt;
    if (base->kind == Value::Record)
      for (auto &[n, field] : base->fields)
        if (n == e.text) {
          Value out = field;
          out.loc = e.loc;
          return out;
        }
    std::vector<std::string> names;
    for (auto &[n, field] : base->fields) names.push_back(n);
    p_.diags.reportUnknown(Diag::NoMember, e.nameLoc, e.text, names, describe(*base), e.text);
    return std::nullopt;
  }
  case K::Call: return evalCall(e, scope);
  case K::List: {
    Value v = make(Value::List, e.loc);
    const Type *element = expected && expected->kind == Type::List ? expected->element.get() : nullptr;
    bool ok = true;
    for (const auto &item : e.elements) {
      auto x = eval(*item, element, scope);
      if (x) v.items.push_back(std::move(*x));
      else ok = false;
    }
    if (!ok) return std::nullopt;
    return v;
  }
  case K::Record: {
    Value v = make(Value::Record, e.loc);
    bool ok = true;
    for (const auto &entry : e.entries) {
      for (const NamedValue &prev : v.fields)
        if (prev.first == entry.key.text) {
          p_.diags.report(Diag::DuplicateField, entry.key.loc, prev.first).note(prev.nameLoc, "first set here");
          ok = false;
        }
      auto x = eval(*entry.value, nullptr, scope);
      if (!x) {
        ok = false;
        continue;
      }
      x->loc = entry.value->loc;
      v.fields.emplace_back(entry.key.text, std::move(*x), entry.key.loc);
    }
    if (!ok) return std::nullopt;
    return v;
  }
  case K::Unary: {
    auto x = eval(*e.lhs, expected, scope);
    if (!x) return std::nullopt;
    x->loc = e.loc;
    if (e.text == "+" && (x->isNumber() || x->kind == Value::Tensor)) return x;
    if (x->kind == Value::Int) {
      if (x->i == INT64_MIN) {
        p_.diags.report(Diag::IntOverflow, e.loc);
        return std::nullopt;
      }
      x->i = -x->i;
      x->origin.clear();  // no longer the hyperparameter itself
      return x;
    }
    if (x->kind == Value::Float) {
      x->f = -x->f;
      x->origin.clear();
      return x;
    }
    if (x->kind == Value::Tensor) {
      if (onLayerCall) {
        Value call = make(Value::Call, e.loc);
        call.s = "neg";
        call.items = {*x};
        Value out = *x;
        onLayerCall(call, out);
        return out;
      }
      return x;
    }
    p_.diags.report(Diag::BadOperand, e.loc, e.text, describe(*x));
    return std::nullopt;
  }
  case K::Objective: {
    Type metric = Type::of(Type::MetricName);
    auto target = eval(*e.lhs, &metric, scope);
    if (!target) return std::nullopt;
    if (!conform(*target, metric, "`" + e.text + "`", e.lhs->loc)) return std::nullopt;
    Value v = make(Value::Record, e.loc);
    v.s = "objective";
    Value goal = make(Value::Enum, {e.loc.file, e.loc.begin, e.loc.begin + uint32_t(e.text.size())});
    goal.s = e.text;
    v.fields.emplace_back("goal", goal);
    v.fields.emplace_back("metric", std::move(*target));
    return v;
  }
  case K::Binary: return evalBinary(e, expected, scope);
  }
  return std::nullopt;
}

std::optional<Value> Evaluator::evalName(const ast::Expr &e, const Type *expected, const Scope &scope) {
  if (const Value *local = scope.find(e.text)) {
    if (local->kind == Value::None) return std::nullopt;  // its definition failed and was reported
    Value v = *local;
    v.loc = e.loc;
    return v;
  }
  const Type *enumType = nullptr;
  if (expected && expected->kind == Type::Enum) enumType = expected;
  if (expected && expected->kind == Type::Union)
    for (const Type &alt : expected->alternatives)
      if (alt.kind == Type::Enum) enumType = &alt;
  if (expected && expected->kind == Type::List && expected->element->kind == Type::Enum)
    enumType = expected->element.get();  // `on failure`: one event where a list is expected
  if (enumType && std::count(enumType->enumValues.begin(), enumType->enumValues.end(), e.text)) {
    Value v = make(Value::Enum, e.loc);
    v.s = e.text;
    return v;
  }
  if (expected && expected->kind == Type::Enum) {
    Value v = make(Value::Enum, e.loc);  // not a valid value: conform() says which are
    v.s = e.text;
    return v;
  }
  if (const Decl *d = p_.lookup(file_, e.text)) {
    if (d->kind == Decl::Invalid) return std::nullopt;  // its syntax error is reported
    if (d->kind == Decl::Dataset || d->kind == Decl::Experiment) {
      Value v = make(Value::Call, e.loc);
      v.callee = d;
      return v;
    }
    return callDecl(*d, nullptr, scope, e.loc);
  }
  if (enumType) {
    Value v = make(Value::Enum, e.loc);
    v.s = e.text;
    return v;  // conform() reports it with the valid values
  }
  std::vector<std::string> candidates = scope.names();
  if (expected && expected->kind == Type::Decl) {
    for (const Decl *d : p_.visibleOfKind(file_, expected->declKind)) candidates.push_back(d->name);
  } else {
    for (const std::string &n : p_.visibleNames(file_)) candidates.push_back(n);
  }
  p_.diags.reportUnknown(Diag::UnknownName, e.loc, e.text, candidates, e.text);
  return std::nullopt;
}

std::optional<Value> Evaluator::evalBinary(const ast::Expr &e, const Type *expected, const Scope &scope) {
  const std::string &op = e.text;
  if (op == "then") {
    Type schedule = Type::decl("schedule");
    auto a = eval(*e.lhs, &schedule, scope), b = eval(*e.rhs, &schedule, scope);
    if (!a || !b) return std::nullopt;
    Value v = make(Value::List, e.loc);
    v.s = "then";
    for (Value *part : {&*a, &*b}) {
      if (part->kind == Value::List && part->s == "then") {
        for (Value &item : part->items) v.items.push_back(item);
      } else if (conform(*part, schedule, "`then`", part->loc)) {
        v.items.push_back(*part);
      } else {
        return std::nullopt;
      }
    }
    return v;
  }
  if (op == "on") {
    Type notifier = Type::decl("notifier");
    Type events = Type::listOf(Type::enumOf({"start", "finish", "failure", "early_stop", "best", "epoch"}));
    auto a = eval(*e.lhs, &notifier, scope), b = eval(*e.rhs, &events, scope);
    if (!a || !b) return std::nullopt;
    if (b->kind != Value::List) {  // `on failure` without brackets
      Value list = make(Value::List, b->loc);
      list.items.push_back(*b);
      b = list;
    }
    if (!conform(*a, notifier, "`on`", a->loc) || !conform(*b, events, "the events after `on`", b->loc)) return std::nullopt;
    Value v = make(Value::Record, e.loc);
    v.s = "on";
    v.fields.emplace_back("notifier", std::move(*a));
    v.fields.emplace_back("events", std::move(*b));
    return v;
  }
  auto a = eval(*e.lhs, expected, scope), b = eval(*e.rhs, expected, scope);
  if (!a || !b) return std::nullopt;
  if (op == "..") {
    if (a->kind != Value::Int || b->kind != Value::Int) {
      p_.diags.report(Diag::BadOperands, e.loc, op, describe(*a), describe(*b));
      return std::nullopt;
    }
    Value v = make(Value::Range, e.loc);
    v.items = {*a, *b};
    return v;
  }
  if (a->kind == Value::Tensor || b->kind == Value::Tensor) {
    if (op == "%" || !(a->kind == Value::Tensor || a->isNumber()) || !(b->kind == Value::Tensor || b->isNumber())) {
      p_.diags.report(Diag::BadOperands, e.loc, op, describe(*a), describe(*b));
      return std::nullopt;
    }
    Value v = make(Value::Tensor, e.loc);
    if (a->kind == Value::Tensor && b->kind == Value::Tensor) {
      auto t = broadcast(p_.diags, op, *a->tensor, *b->tensor, e.loc);
      if (!t) return std::nullopt;
      v.tensor = std::make_shared<TensorType>(*t);
    } else {
      v.tensor = a->kind == Value::Tensor ? a->tensor : b->tensor;
    }
    if (onLayerCall) {
      Value call = make(Value::Call, e.loc);
      call.s = op;
      call.items = {*a, *b};
      onLayerCall(call, v);
    }
    return v;
  }
  if (a->kind == Value::String && b->kind == Value::String && op == "+") {
    Value v = make(Value::String, e.loc);
    v.s = a->s + b->s;
    return v;
  }
  if (!a->isNumber() || !b->isNumber()) {
    p_.diags.report(Diag::BadOperands, e.loc, op, describe(*a), describe(*b));
    return std::nullopt;
  }
  if (a->kind == Value::Int && b->kind == Value::Int) {
    Value v = make(Value::Int, e.loc);
    int64_t x = a->i, y = b->i;
    bool overflow = false;
    if (op == "+") overflow = __builtin_add_overflow(x, y, &v.i);
    else if (op == "-") overflow = __builtin_sub_overflow(x, y, &v.i);
    else if (op == "*") overflow = __builtin_mul_overflow(x, y, &v.i);
    else {
      if (y == 0) {
        p_.diags.report(Diag::DivisionByZero, e.loc);
        return std::nullopt;
      }
      if (x == INT64_MIN && y == -1) overflow = true;
      else v.i = op == "/" ? x / y : x % y;  // integer division truncates, as in C
    }
    if (overflow) {
      p_.diags.report(Diag::IntOverflow, e.loc);
      return std::nullopt;
    }
    return v;
  }
  double x = a->number(), y = b->number();
  if ((op == "/" || op == "%") && y == 0) {
    p_.diags.report(Diag::DivisionByZero, e.loc);
    return std::nullopt;
  }
  Value v = make(Value::Float, e.loc);
  v.f = op == "+" ? x + y : op == "-" ? x - y : op == "*" ? x * y : op == "/" ? x / y : std::fmod(x, y);
  if (!std::isfinite(v.f)) {
    p_.diags.report(Diag::NotFinite, e.loc, fmt::format("{}", v.f));
    return std::nullopt;
  }
  return v;
}

std::optional<Value> Evaluator::evalCall(const ast::Expr &e, const Scope &scope) {
  const ast::Expr &callee = *e.lhs;
  if (callee.kind != ast::ExprKind::Name) {
    p_.diags.report(Diag::NotCallable, callee.loc, "this expression");
    return std::nullopt;
  }
  if (scope.find(callee.text)) {
    p_.diags.report(Diag::NotCallable, callee.loc, "local value `" + callee.text + "`");
    return std::nullopt;
  }
  const Decl *d = p_.lookup(file_, callee.text);
  if (!d) {
    p_.diags.reportUnknown(Diag::UnknownName, callee.loc, callee.text, p_.visibleNames(file_), callee.text);
    return std::nullopt;
  }
  if (d->kind == Decl::Invalid) return std::nullopt;  // its syntax error is reported
  return callDecl(*d, &e, scope, e.loc);
}

// ---------------------------------------------------------------------------
// Calls

std::optional<Value> Evaluator::callDecl(const Decl &cd, const ast::Expr *call, const Scope &scope, Loc at) {
  Decl &d = const_cast<Decl &>(cd);
  resolveSignature(p_, d);
  if (d.broken) return std::nullopt;  // its declaration's errors are reported
  if (d.kind == Decl::Dataset || d.kind == Decl::Experiment) {
    p_.diags.report(Diag::NotCallable, call ? call->lhs->loc : at, d.kindWithArticle() + " `" + d.name + "`");
    return std::nullopt;
  }
  std::string callee = d.name;
  std::vector<const ast::Arg *> positional, named;
  bool ok = true;
  if (call) {
    for (const ast::Arg &a : call->args) {
      if (a.name) {
        named.push_back(&a);
      } else if (!named.empty()) {
        p_.diags.report(Diag::PositionalAfterNamed, a.value->loc);
        ok = false;
      } else {
        positional.push_back(&a);
      }
    }
  }

  // Models called with tensors are layers: tensors bind the inputs.
  std::vector<Value> tensors;
  if (d.kind == Decl::Model && !positional.empty()) {
    for (const ast::Arg *a : positional) {
      auto v = eval(*a->value, nullptr, scope);
      if (!v) return std::nullopt;
      if (v->kind != Value::Tensor) {
        p_.diags.report(Diag::NotATensor, a->value->loc, describe(*v))
            .note(fmt::format("positional arguments of model `{}` are its inputs", d.name));
        return std::nullopt;
      }
      tensors.push_back(std::move(*v));
    }
    positional.clear();
  }

  std::vector<std::optional<Value>> bound(d.params.size());
  std::vector<Loc> argLocs(d.params.size(), at);
  auto bindOne = [&](size_t i, const ast::Expr &expr) {
    const Param &p = d.params[i];
    std::string what = fmt::format("argument `{}` of `{}`", p.name, callee);
    auto v = eval(expr, &p.type, scope);
    if (!v) return false;
    v->loc = expr.loc;
    if (!conform(*v, p.type, what, expr.loc)) return false;
    if (p.range && !checkRange(*v, *p.range, what, expr.loc)) return false;
    bound[i] = std::move(*v);
    argLocs[i] = expr.loc;
    return true;
  };

  if (d.variadic && !d.params.empty()) {
    Value list = make(Value::List, at);
    for (const ast::Arg *a : positional) {
      auto v = eval(*a->value, nullptr, scope);
      if (!v) return std::nullopt;
      list.items.push_back(std::move(*v));
    }
    bound[0] = list;
    positional.clear();
  }
  if (positional.size() > d.params.size()) {
    p_.diags.report(Diag::TooManyArguments, positional[d.params.size()]->value->loc, callee, d.params.size(),
                    positional.size());
    return std::nullopt;
  }
  for (size_t i = 0; i < positional.size(); ++i) ok &= bindOne(i, *positional[i]->value);
  for (const ast::Arg *a : named) {
    const std::string &n = a->name->text;
    size_t index = d.params.size();
    for (size_t i = 0; i < d.params.size(); ++i)
      if (d.params[i].name == n) index = i;
    if (index == d.params.size()) {
      std::vector<std::string> names;  // a parameter already given is no suggestion
      for (size_t i = 0; i < d.params.size(); ++i)
        if (!bound[i] && i >= positional.size()) names.push_back(d.params[i].name);
      Diagnostic &diag = p_.diags.reportUnknown(Diag::UnknownArgument, a->name->loc, n, names, callee, n);
      // The parameter may belong to a sibling: `offload` is `zero`'s, not `ddp`'s.
      for (const Decl *other : p_.visibleOfKind(file_, d.kindName())) {
        resolveSignature(p_, const_cast<Decl &>(*other));
        if (other != &d && other->param(n)) {
          diag.note(other->loc, fmt::format("`{}` is a parameter of `{}`", n, other->name));
          break;
        }
      }
      ok = false;
      continue;
    }
    if (bound[index] || (index < positional.size())) {
      p_.diags.report(Diag::DuplicateArgument, a->name->loc, n);
      ok = false;
      continue;
    }
    ok &= bindOne(index, *a->value);
  }
  if (!ok) return std::nullopt;

  Value result = make(Value::Call, at);
  result.callee = &d;
  for (size_t i = 0; i < d.params.size(); ++i) {
    const Param &p = d.params[i];
    bool defaulted = !bound[i];
    if (defaulted) {
      if (!p.defaultValue) {
        p_.diags.report(Diag::MissingArgument, call ? call->loc : at, p.name, callee)
            .note(p.loc, fmt::format("`{}` is declared here", p.name));
        ok = false;
        continue;
      }
      bound[i] = *p.defaultValue;
    }
    result.fields.emplace_back(p.name, std::move(*bound[i]));
    result.defaulted.push_back(defaulted);
  }
  if (!ok) return std::nullopt;

  if (d.kind == Decl::Model) {
    if (tensors.empty()) return result;
    if (!instantiateModel) {
      p_.diags.report(Diag::NotCallable, at, "model `" + d.name + "` with tensors here");
      return std::nullopt;
    }
    return instantiateModel(d, std::move(tensors), result.fields, at);
  }

  // Tensor parameters: match shapes across all of them, then compute the result.
  ShapeMatcher shapes(p_.diags, d, result);
  for (size_t i = 0; i < d.params.size(); ++i) {
    const Param &p = d.params[i];
    if (p.type.kind != Type::Tensor) continue;
    if (!shapes.match(p, *result.fields[i].second.tensor, argLocs[i])) return std::nullopt;
  }
  for (auto &[divisor, whole] : d.divides) {
    auto a = shapes.intValue(divisor), b = shapes.intValue(whole);
    if (a && b && (*a <= 0 || *b % *a != 0)) {
      p_.diags.report(Diag::NotDivisible, at, divisor, *a, whole, *b, callee);
      return std::nullopt;
    }
  }
  if (d.ext && d.ext->result && d.ext->result->shaped) {
    auto t = shapes.result(*d.ext->result, at);
    if (!t) return std::nullopt;
    Value out = make(Value::Tensor, at);
    out.tensor = std::make_shared<TensorType>(std::move(*t));
    if (onLayerCall) onLayerCall(result, out);
    return out;
  }
  return result;
}

}  // namespace mlc::sema
