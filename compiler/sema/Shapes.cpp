#include "sema/Shapes.h"

#include "parse/AstDump.h"

namespace mlc::sema {

namespace {

std::optional<int64_t> arith(const std::string &op, int64_t a, int64_t b) {
  int64_t r = 0;
  if (op == "+" && !__builtin_add_overflow(a, b, &r)) return r;
  if (op == "-" && !__builtin_sub_overflow(a, b, &r)) return r;
  if (op == "*" && !__builtin_mul_overflow(a, b, &r)) return r;
  if (op == "/" && b != 0) return a / b;
  if (op == "%" && b != 0) return a % b;
  return std::nullopt;
}

// A dimension expression as written: `h + 2 * padding` (for messages).
std::string infix(const ast::Expr &e) {
  if (e.kind == ast::ExprKind::Int) return std::to_string(e.intValue);
  if (e.kind == ast::ExprKind::Name) return e.text;
  if (e.kind == ast::ExprKind::Binary) return "(" + infix(*e.lhs) + " " + e.text + " " + infix(*e.rhs) + ")";
  return exprToString(e);
}

// `hidden * 2` in a model's input or output type, given the int parameters.
std::optional<int64_t> constantDim(const ast::Expr &e, const std::map<std::string, int64_t> &ints) {
  if (e.kind == ast::ExprKind::Int) return e.intValue;
  if (e.kind == ast::ExprKind::Name) {
    auto it = ints.find(e.text);
    return it == ints.end() ? std::nullopt : std::optional<int64_t>(it->second);
  }
  if (e.kind != ast::ExprKind::Binary) return std::nullopt;
  auto a = constantDim(*e.lhs, ints), b = constantDim(*e.rhs, ints);
  if (!a || !b) return std::nullopt;
  return arith(e.text, *a, *b);
}

}  // namespace

std::optional<Dim> ShapeMatcher::evalDim(const ast::Expr &e, bool &unboundVar, std::string &varName) {
  using K = ast::ExprKind;
  switch (e.kind) {
  case K::Int: return Dim::constant(e.intValue);
  case K::Name: {
    if (const Value *v = call_.arg(e.text); v && v->kind == Value::Int) return Dim::constant(v->i);
    auto it = vars_.find(e.text);
    if (it != vars_.end()) return it->second.dim;
    unboundVar = true;
    varName = e.text;
    return std::nullopt;
  }
  case K::Binary: {
    bool u1 = false, u2 = false;
    std::string n1, n2;
    auto a = evalDim(*e.lhs, u1, n1);
    auto b = evalDim(*e.rhs, u2, n2);
    if (u1 || u2) {
      unboundVar = true;
      varName = u1 ? n1 : n2;
      return std::nullopt;
    }
    if (!a || !b || a->kind != Dim::Const || b->kind != Dim::Const) return std::nullopt;
    auto r = arith(e.text, a->size, b->size);
    if (!r) {
      overflow_ = e.text != "/" && e.text != "%";  // the rest is division by zero: a bad dimension
      return std::nullopt;
    }
    return Dim::constant(*r);
  }
  default: return std::nullopt;
  }
}

std::optional<int64_t> ShapeMatcher::intValue(const std::string &name) const {
  if (const Value *v = call_.arg(name); v && v->kind == Value::Int) return v->i;
  auto it = vars_.find(name);
  if (it != vars_.end() && it->second.dim.kind == Dim::Const) return it->second.dim.size;
  return std::nullopt;
}

// The pattern with what is known so far filled in: `f32[batch, 2, m]`.
std::string ShapeMatcher::render(const ast::TypeExpr &pattern) {
  std::vector<std::string> parts;
  for (const auto &p : pattern.dims) {
    if (!p) {
      if (!ellipsis_) parts.push_back("...");
      else
        for (const Dim &d : *ellipsis_) parts.push_back(toString(d));
      continue;
    }
    bool unbound = false;
    std::string name;
    auto d = evalDim(*p, unbound, name);
    parts.push_back(d ? toString(*d) : infix(*p));
  }
  std::string out = pattern.name.text + "[";
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? ", " : "") + parts[i];
  return out + "]";
}

bool ShapeMatcher::match(const Param &param, const TensorType &actual, Loc at) {
  const ast::TypeExpr &pattern = *param.pattern;
  auto mismatch = [&]() {
    diags_.report(Diag::ShapeMismatch, at, param.name, callee_.name, "`" + render(pattern) + "`", "`" + toString(actual) + "`")
        .note(param.loc, fmt::format("parameter `{}` of `{}` is declared here", param.name, callee_.name));
    return false;
  };
  if (pattern.name.text != actual.dtype) return mismatch();
  size_t ellipsisAt = pattern.dims.size();
  for (size_t i = 0; i < pattern.dims.size(); ++i)
    if (!pattern.dims[i]) {
      if (ellipsisAt != pattern.dims.size()) return false;  // two `...`: reported with the signature
      ellipsisAt = i;
    }
  bool hasEllipsis = ellipsisAt < pattern.dims.size();
  size_t fixed = pattern.dims.size() - (hasEllipsis ? 1 : 0);
  if (hasEllipsis ? actual.dims.size() < fixed : actual.dims.size() != fixed) return mismatch();

  // Pairs (pattern dim, actual dim) around the ellipsis.
  std::vector<std::pair<const ast::Expr *, Dim>> pairs;
  size_t suffix = hasEllipsis ? pattern.dims.size() - ellipsisAt - 1 : 0;
  for (size_t i = 0; i < (hasEllipsis ? ellipsisAt : fixed); ++i) pairs.emplace_back(pattern.dims[i].get(), actual.dims[i]);
  for (size_t k = 0; k < suffix; ++k)
    pairs.emplace_back(pattern.dims[ellipsisAt + 1 + k].get(), actual.dims[actual.dims.size() - suffix + k]);
  if (hasEllipsis) {
    std::vector<Dim> middle(actual.dims.begin() + ellipsisAt, actual.dims.end() - suffix);
    if (ellipsis_ && *ellipsis_ != middle) return mismatch();
    ellipsis_ = middle;
  }
  for (auto &[p, a] : pairs) {
    bool unbound = false;
    std::string name;
    auto d = evalDim(*p, unbound, name);
    if (unbound && p->kind == ast::ExprKind::Name) {
      vars_[name] = {a, param.name};
      continue;
    }
    if (!d) return mismatch();
    if (!(*d == a)) {
      auto it = p->kind == ast::ExprKind::Name ? vars_.find(p->text) : vars_.end();
      if (it != vars_.end() && it->second.byParam != param.name) {
        diags_.report(Diag::DimMismatch, at, p->text, callee_.name, toString(a), param.name, toString(it->second.dim),
                      it->second.byParam);
        return false;
      }
      return mismatch();
    }
  }
  return true;
}

std::optional<TensorType> ShapeMatcher::result(const ast::TypeExpr &pattern, Loc at) {
  TensorType out;
  out.dtype = pattern.name.text;
  for (const auto &p : pattern.dims) {
    if (!p) {
      if (ellipsis_) out.dims.insert(out.dims.end(), ellipsis_->begin(), ellipsis_->end());
      continue;
    }
    bool unbound = false;
    std::string name;
    auto d = evalDim(*p, unbound, name);
    if (unbound) {
      diags_.report(Diag::UnboundDimension, at, name, callee_.name);
      return std::nullopt;
    }
    if (overflow_) {
      diags_.report(Diag::IntOverflow, at)
          .note(pattern.loc, fmt::format("computing the result shape of `{}` as `{}`", callee_.name, render(pattern)));
      return std::nullopt;
    }
    if (!d || (d->kind == Dim::Const && d->size <= 0)) {
      diags_.report(Diag::BadDimension, at, d ? std::to_string(d->size) : infix(*p))
          .note(pattern.loc, fmt::format("computing the result shape of `{}` as `{}`", callee_.name, render(pattern)));
      return std::nullopt;
    }
    out.dims.push_back(*d);
  }
  return out;
}

std::optional<TensorType> broadcast(Diagnostics &diags, const std::string &op, const TensorType &a,
                                    const TensorType &b, Loc at) {
  auto fail = [&]() -> std::optional<TensorType> {
    diags.report(Diag::BroadcastMismatch, at, op, "`" + toString(a) + "`", "`" + toString(b) + "`");
    return std::nullopt;
  };
  if (a.dtype != b.dtype) return fail();
  TensorType out{a.dtype, {}};
  size_t n = std::max(a.dims.size(), b.dims.size());
  out.dims.resize(n);
  for (size_t k = 0; k < n; ++k) {
    const Dim *da = k < a.dims.size() ? &a.dims[a.dims.size() - 1 - k] : nullptr;
    const Dim *db = k < b.dims.size() ? &b.dims[b.dims.size() - 1 - k] : nullptr;
    Dim &o = out.dims[n - 1 - k];
    if (!da) o = *db;
    else if (!db) o = *da;
    else if (*da == *db) o = *da;
    else if (da->kind == Dim::Const && da->size == 1) o = *db;
    else if (db->kind == Dim::Const && db->size == 1) o = *da;
    else return fail();
  }
  return out;
}

TensorType declaredTensor(const ast::TypeExpr &type, const std::map<std::string, int64_t> &ints) {
  TensorType out;
  out.dtype = type.name.text;
  for (const auto &p : type.dims) {
    if (!p) continue;  // `...` is not allowed in model inputs; sema reports it
    if (p->kind == ast::ExprKind::Int) out.dims.push_back(Dim::constant(p->intValue));
    else if (p->kind == ast::ExprKind::Name && p->text == "batch") out.dims.push_back(Dim::batch());
    else if (p->kind == ast::ExprKind::Name && ints.count(p->text)) out.dims.push_back(Dim::constant(ints.at(p->text)));
    else if (p->kind == ast::ExprKind::Name) out.dims.push_back({Dim::Var, 0, p->text});
    else if (auto n = constantDim(*p, ints)) out.dims.push_back(Dim::constant(*n));
    else out.dims.push_back({Dim::Var, 0, infix(*p)});
  }
  return out;
}

}  // namespace mlc::sema
