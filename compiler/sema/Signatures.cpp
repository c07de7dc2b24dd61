#include "sema/Signatures.h"

#include "parse/AstDump.h"
#include "sema/Eval.h"

#include <set>

namespace mlc::sema {

namespace {

const std::set<std::string> kExternKinds = {"layer", "loss", "metric", "optimizer", "schedule", "strategy", "space",
                                            "search", "pruner", "storage", "source", "selector", "sink", "notifier", "interval", "function"};
// Types that name a declaration: every extern kind, models and datasets.
const std::set<std::string> kDeclKinds = [] {
  std::set<std::string> kinds = kExternKinds;
  kinds.insert({"model", "dataset"});
  return kinds;
}();

}  // namespace

namespace {

class SignatureResolver {
public:
  SignatureResolver(Program &p, Decl &d) : p_(p), d_(d), eval_(p, d.file) {}

  void run() {
    if (d_.ext) annotations();
    const std::vector<ast::Param> *params = d_.ext ? &d_.ext->params : d_.model ? &d_.model->params : nullptr;
    if (!params) return;
    for (const ast::Param &ap : *params) {
      Param p;
      p.name = ap.name.text;
      p.loc = ap.name.loc;
      p.ast = &ap;
      auto t = type(ap.type);
      if (!t) continue;
      if (!ap.alternatives.empty()) {
        Type u = Type::of(Type::Union);
        u.alternatives.push_back(*t);
        for (const ast::TypeExpr &alt : ap.alternatives)
          if (auto at = type(alt)) u.alternatives.push_back(*at);
        t = u;
      }
      p.type = *t;
      if (p.type.kind == Type::Tensor) {
        p.pattern = &ap.type;
        if (std::count(ap.type.dims.begin(), ap.type.dims.end(), nullptr) > 1) {
          p_.diags.report(Diag::TwoEllipses, ap.type.loc);
          continue;
        }
      }
      if (ap.constraint) p.range = interval(*ap.constraint, p.type);
      if (ap.defaultValue) {
        Scope empty;
        std::string what = fmt::format("default of `{}`", p.name);
        auto v = eval_.eval(*ap.defaultValue, &p.type, empty);
        if (v && eval_.conform(*v, p.type, what, ap.defaultValue->loc) &&
            (!p.range || eval_.checkRange(*v, *p.range, what, ap.defaultValue->loc)))
          p.defaultValue = std::move(*v);
      }
      for (const Param &prev : d_.params)
        if (prev.name == p.name) p_.diags.report(Diag::Redefinition, p.loc, p.name).note(prev.loc, "previous definition is here");
      d_.params.push_back(std::move(p));
    }
    if (d_.ext && d_.ext->result) {
      type(*d_.ext->result);
      if (std::count(d_.ext->result->dims.begin(), d_.ext->result->dims.end(), nullptr) > 1)
        p_.diags.report(Diag::TwoEllipses, d_.ext->result->loc);
    }
  }

private:
  void annotations() {
    if (!kExternKinds.count(d_.externKind)) {
      std::vector<std::string> kinds(kExternKinds.begin(), kExternKinds.end());
      p_.diags.reportUnknown(Diag::UnknownExternKind, d_.ext->kind.loc, d_.externKind, kinds, d_.externKind);
    }
    for (const ast::Annotation &a : d_.ext->annotations) {
      const std::string &n = a.name.text;
      std::string arg = a.args.size() == 1 && a.args[0]->kind == ast::ExprKind::Name ? a.args[0]->text : "";
      auto bad = [&](const char *expects) { p_.diags.report(Diag::BadAnnotation, a.name.loc, n, expects); };
      if (n == "goal") {
        if (arg == "max" || arg == "min") d_.goal = arg;
        else bad("`max` or `min`");
      } else if (n == "task") {
        if (arg == "classification" || arg == "regression" || arg == "binary") d_.task = arg;
        else bad("`classification`, `regression` or `binary`");
      } else if (n == "variadic") {
        if (a.args.empty()) d_.variadic = true;
        else bad("no arguments");
      } else if (n == "divides") {
        if (a.args.size() == 2 && a.args[0]->kind == ast::ExprKind::Name && a.args[1]->kind == ast::ExprKind::Name &&
            namesParamOrDim(a.args[0]->text) && namesParamOrDim(a.args[1]->text))
          d_.divides.emplace_back(a.args[0]->text, a.args[1]->text);
        else bad("two parameters or dimensions of this declaration: `@divides(heads, d)`");
      } else {
        p_.diags.reportUnknown(Diag::UnknownAnnotation, a.name.loc, n, {"goal", "task", "variadic", "divides"}, n);
      }
    }
  }

  // A parameter, or a dimension name in one of the tensor parameters' shapes.
  bool namesParamOrDim(const std::string &name) const {
    for (const ast::Param &p : d_.ext->params) {
      if (p.name.text == name) return true;
      for (const auto &dim : p.type.dims)
        if (dim && dim->kind == ast::ExprKind::Name && dim->text == name) return true;
    }
    return false;
  }

  std::optional<Type> type(const ast::TypeExpr &t) {
    const std::string &n = t.name.text;
    if (!t.enumValues.empty()) {
      if (n != "enum") {
        p_.diags.report(Diag::UnknownType, t.name.loc, n).note("enumerations are written `enum(a, b, c)`");
        return std::nullopt;
      }
      std::vector<std::string> values;
      for (const ast::Name &v : t.enumValues) values.push_back(v.text);
      return Type::enumOf(values);
    }
    if (t.shaped) {
      if (isDtype(n)) return Type::of(Type::Tensor);
      if (n == "list" && t.dims.size() == 1 && t.dims[0] && t.dims[0]->kind == ast::ExprKind::Name) {
        ast::TypeExpr inner;
        inner.loc = t.dims[0]->loc;
        inner.name = {t.dims[0]->text, t.dims[0]->loc};
        auto element = type(inner);
        if (!element) return std::nullopt;
        return Type::listOf(*element);
      }
    } else {
      if (n == "int") return Type::of(Type::Int);
      if (n == "float") return Type::of(Type::Float);
      if (n == "bool") return Type::of(Type::Bool);
      if (n == "string") return Type::of(Type::String);
      if (n == "range") return Type::of(Type::Range);
      if (n == "any") return Type::of(Type::Any);
      if (kDeclKinds.count(n)) return Type::decl(n);
    }
    std::vector<std::string> known = {"int", "float", "bool", "string", "range", "any", "list", "enum"};
    known.insert(known.end(), dtypeNames().begin(), dtypeNames().end());
    known.insert(known.end(), kDeclKinds.begin(), kDeclKinds.end());
    p_.diags.reportUnknown(Diag::UnknownType, t.name.loc, n, known, n);
    return std::nullopt;
  }

  std::optional<double> constant(const ast::Expr &e) {
    Scope empty;
    Type number = Type::of(Type::Float);
    auto v = eval_.eval(e, &number, empty);
    if (!v) return std::nullopt;
    if (!v->isNumber()) {
      p_.diags.report(Diag::TypeMismatch, e.loc, "a range bound", "a number", describe(*v));
      return std::nullopt;
    }
    return v->number();
  }

  std::optional<Interval> interval(const ast::Constraint &c, const Type &t) {
    if (t.kind != Type::Int && t.kind != Type::Float) {
      p_.diags.report(Diag::BadConstraint, c.loc, "`" + toString(t) + "`");
      return std::nullopt;
    }
    Interval r;
    if (c.interval) {
      r.lo = constant(*c.lo);
      r.hi = constant(*c.hi);
      r.loInclusive = c.loInclusive;
      r.hiInclusive = c.hiInclusive;
      if (!r.lo || !r.hi) return std::nullopt;
      if (*r.lo > *r.hi || (*r.lo == *r.hi && !(r.loInclusive && r.hiInclusive))) {
        p_.diags.report(Diag::EmptyInterval, c.loc, fmt::format("{}", *r.lo), fmt::format("{}", *r.hi));
        return std::nullopt;
      }
      return r;
    }
    auto bound = constant(*c.bound);
    if (!bound) return std::nullopt;
    if (c.op == ">") r.lo = bound, r.loInclusive = false;
    else if (c.op == ">=") r.lo = bound;
    else if (c.op == "<") r.hi = bound, r.hiInclusive = false;
    else if (c.op == "<=") r.hi = bound;
    else r.excluded = bound;
    return r;
  }

  Program &p_;
  Decl &d_;
  Evaluator eval_;
};

}  // namespace

void resolveSignature(Program &program, Decl &decl) {
  if (decl.signatureResolved) return;
  decl.signatureResolved = true;  // set first: a default that refers back to this declaration ends here
  // Defaults may call other declarations whose defaults call others; bound
  // the chain so it cannot exhaust the stack.
  static int depth = 0;
  constexpr int kMaxDepth = 64;
  if (depth >= kMaxDepth) {
    program.diags.report(Diag::SignatureTooDeep, decl.loc, kMaxDepth);
    decl.broken = true;
    return;
  }
  ++depth;
  size_t before = program.diags.errorReports();
  SignatureResolver(program, decl).run();
  if (program.diags.errorReports() > before) decl.broken = true;
  --depth;
}

}  // namespace mlc::sema
