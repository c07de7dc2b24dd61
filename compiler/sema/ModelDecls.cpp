#include "sema/ModelDecls.h"

#include "sema/Eval.h"

#include <set>

namespace mlc::sema {

namespace {

class ModelDeclChecker {
public:
  ModelDeclChecker(Program &p, Decl &d) : p_(p), d_(d) {}

  void run() {
    size_t before = p_.diags.errorReports();
    resolveSignature(p_, d_);
    for (const Param &param : d_.params) defined_[param.name] = param.loc;
    bool inputsDone = false;
    std::map<std::string, Loc> inputs, outputs;
    for (const ast::ModelStmt &s : d_.model->body) {
      if (s.kind != ast::ModelStmt::Input) {
        inputsDone = true;
        continue;
      }
      if (inputsDone) p_.diags.report(Diag::InputNotFirst, s.loc);
      if (auto it = defined_.find(s.name.text); it != defined_.end())
        p_.diags.report(Diag::Redefinition, s.name.loc, s.name.text).note(it->second, "previous definition is here");
      tensorType(*s.type, "input `" + s.name.text + "`");
      defined_[s.name.text] = s.name.loc;
      // Dimension names of an input (`d` in `f32[batch, d]`) are ints in the body.
      for (const auto &dim : s.type->dims)
        if (dim && dim->kind == ast::ExprKind::Name && !defined_.count(dim->text)) defined_[dim->text] = dim->loc;
    }
    body(d_.model->body, outputs);
    if (p_.diags.errorReports() > before) p_.brokenModels.insert(&d_);
  }

private:
  // Input and output types are tensors of a known element type and a fixed
  // rank with positive sizes.
  void tensorType(const ast::TypeExpr &t, const std::string &what) {
    if (!t.shaped) {
      p_.diags.report(Diag::NotATensor, t.loc, "`" + t.name.text + "`").note(fmt::format("{} must be a tensor such as `f32[batch, 64]`", what));
      return;
    }
    if (!isDtype(t.name.text)) {
      p_.diags.reportUnknown(Diag::UnknownType, t.name.loc, t.name.text, dtypeNames(), t.name.text);
      return;
    }
    for (const auto &dim : t.dims) {
      if (!dim) {
        p_.diags.report(Diag::EllipsisInModel, t.loc);
        return;
      }
      if (dim->kind == ast::ExprKind::Int && dim->intValue <= 0) {
        p_.diags.report(Diag::BadDimension, dim->loc, std::to_string(dim->intValue));
        return;
      }
    }
  }

  void body(const std::vector<ast::ModelStmt> &stmts, std::map<std::string, Loc> &outputs) {
    for (const ast::ModelStmt &s : stmts) {
      switch (s.kind) {
      case ast::ModelStmt::Input: break;
      case ast::ModelStmt::Let:
      case ast::ModelStmt::Output:
        expr(*s.value);
        if (s.kind == ast::ModelStmt::Output) {
          if (auto it = outputs.find(s.name.text); it != outputs.end())
            p_.diags.report(Diag::Redefinition, s.name.loc, s.name.text).note(it->second, "previous definition is here");
          outputs[s.name.text] = s.name.loc;
          if (s.type) tensorType(*s.type, "output `" + s.name.text + "`");
        }
        defined_.emplace(s.name.text, s.name.loc);
        break;
      case ast::ModelStmt::Repeat:
        expr(*s.value);
        if (!s.name.text.empty()) defined_.emplace(s.name.text, s.name.loc);
        for (const ast::ModelStmt &inner : s.body) {
          if (inner.kind == ast::ModelStmt::Input) {
            p_.diags.report(Diag::InputNotFirst, inner.loc);
            defined_.emplace(inner.name.text, inner.name.loc);  // reported once; its uses stay quiet
          }
          if (inner.kind == ast::ModelStmt::Output) p_.diags.report(Diag::OutputInRepeat, inner.loc);
        }
        body(s.body, outputs);
        break;
      }
    }
  }

  void name(const ast::Expr &e) {
    if (defined_.count(e.text) || p_.lookup(d_.file, e.text)) return;
    std::vector<std::string> candidates = p_.visibleNames(d_.file);
    for (auto &[n, loc] : defined_) candidates.push_back(n);
    p_.diags.reportUnknown(Diag::UnknownName, e.loc, e.text, candidates, e.text);
  }

  void expr(const ast::Expr &e) {
    using K = ast::ExprKind;
    switch (e.kind) {
    case K::Name: name(e); return;
    case K::Member: expr(*e.lhs); return;
    case K::Call: call(e); return;
    case K::List:
      for (const auto &item : e.elements) expr(*item);
      return;
    case K::Record:
      for (const auto &entry : e.entries) expr(*entry.value);
      return;
    case K::Unary:
    case K::Objective: expr(*e.lhs); return;
    case K::Binary:
      expr(*e.lhs);
      expr(*e.rhs);
      return;
    default: return;
    }
  }

  // Arguments that name enum values (`average = macro`) are not names to
  // resolve; everything else is.
  void call(const ast::Expr &e) {
    const Decl *callee = nullptr;
    if (e.lhs->kind == ast::ExprKind::Name && !defined_.count(e.lhs->text)) {
      callee = p_.lookup(d_.file, e.lhs->text);
      if (!callee) name(*e.lhs);
    } else {
      expr(*e.lhs);
    }
    if (callee) resolveSignature(p_, const_cast<Decl &>(*callee));
    size_t position = 0;
    for (const ast::Arg &a : e.args) {
      const Param *param = nullptr;
      if (callee && a.name) param = callee->param(a.name->text);
      else if (callee && position < callee->params.size()) param = &callee->params[position];
      if (!a.name) ++position;
      bool enumArg = param && a.value->kind == ast::ExprKind::Name &&
                     (param->type.kind == Type::Enum || param->type.kind == Type::Union);
      if (!enumArg) expr(*a.value);
    }
  }

  Program &p_;
  Decl &d_;
  std::map<std::string, Loc> defined_;
};

}  // namespace

void checkModelDecl(Program &program, Decl &model) { ModelDeclChecker(program, model).run(); }

}  // namespace mlc::sema
