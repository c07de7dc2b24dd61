#include "parse/AstBuilder.h"

#include "parse/Parse.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace mlc {

namespace {

using P = mlpgen::MlpParser;

class Builder {
public:
  Builder(FileId file, const OffsetMap &offsets, Diagnostics &diags) : file_(file), offsets_(offsets), diags_(diags) {}

  std::unique_ptr<ast::File> file(P::FileContext *ctx) {
    auto out = std::make_unique<ast::File>();
    out->id = file_;
    using K = ast::File::DeclKind;
    for (P::ItemContext *item : ctx->item()) {
      if (auto *d = item->importDecl()) {
        out->imports.push_back(importDecl(d));
        out->order.emplace_back(K::Import, out->imports.size() - 1);
      } else if (auto *d = item->datasetDecl()) {
        out->datasets.push_back(dataset(d));
        out->order.emplace_back(K::Dataset, out->datasets.size() - 1);
      } else if (auto *d = item->modelDecl()) {
        out->models.push_back(model(d));
        out->order.emplace_back(K::Model, out->models.size() - 1);
      } else if (auto *d = item->experimentDecl()) {
        out->experiments.push_back({loc(d), name(d->name), block(d->block())});
        out->order.emplace_back(K::Experiment, out->experiments.size() - 1);
      } else if (auto *d = item->externDecl()) {
        out->externs.push_back(externDecl(d));
        out->order.emplace_back(K::Extern, out->externs.size() - 1);
      }
    }
    return out;
  }

private:
  Loc loc(antlr4::Token *t) const {
    return {file_, offsets_.byteOffset(t->getStartIndex()), offsets_.byteOffset(t->getStopIndex() + 1)};
  }
  Loc loc(antlr4::ParserRuleContext *ctx) const {
    Loc begin = loc(ctx->getStart());
    antlr4::Token *stop = ctx->getStop();
    if (!stop || stop->getStopIndex() + 1 < ctx->getStart()->getStartIndex()) return begin;
    return {file_, begin.begin, offsets_.byteOffset(stop->getStopIndex() + 1)};
  }
  ast::Name name(P::IdentContext *ctx) const { return {ctx->getText(), loc(ctx)}; }

  ast::Import importDecl(P::ImportDeclContext *ctx) {
    ast::Import out;
    out.loc = loc(ctx);
    for (auto *part : ctx->parts) out.path.push_back(name(part));
    out.all = ctx->star != nullptr;
    for (auto *n : ctx->names) out.names.push_back(name(n));
    return out;
  }

  ast::Dataset dataset(P::DatasetDeclContext *ctx) {
    ast::Dataset out;
    out.loc = loc(ctx);
    out.name = name(ctx->name);
    out.source = expr(ctx->source, 0);
    if (ctx->block()) out.fields = block(ctx->block());
    return out;
  }

  ast::Model model(P::ModelDeclContext *ctx) {
    ast::Model out;
    out.loc = loc(ctx);
    out.name = name(ctx->name);
    if (ctx->params()) out.params = params(ctx->params());
    for (auto *s : ctx->modelStmt()) modelStmt(s, out.body);
    return out;
  }

  ast::Extern externDecl(P::ExternDeclContext *ctx) {
    ast::Extern out;
    out.loc = loc(ctx);
    for (auto *a : ctx->annotation()) {
      ast::Annotation ann{name(a->ident()), {}};
      for (auto *e : a->expr()) ann.args.push_back(expr(e, 0));
      out.annotations.push_back(std::move(ann));
    }
    out.kind = name(ctx->kind);
    out.name = name(ctx->name);
    if (ctx->params()) out.params = params(ctx->params());
    if (ctx->result) out.result = type(ctx->result);
    return out;
  }

  std::vector<ast::Param> params(P::ParamsContext *ctx) {
    std::vector<ast::Param> out;
    for (auto *p : ctx->param()) {
      ast::Param param;
      param.name = name(p->ident());
      auto types = p->type();
      param.type = type(types[0]);
      for (size_t i = 1; i < types.size(); ++i) param.alternatives.push_back(type(types[i]));
      if (p->constraint()) param.constraint = constraint(p->constraint());
      if (p->expr()) param.defaultValue = expr(p->expr(), 0);
      out.push_back(std::move(param));
    }
    return out;
  }

  ast::TypeExpr type(P::TypeContext *ctx) {
    ast::TypeExpr out;
    out.loc = loc(ctx);
    if (auto *t = dynamic_cast<P::NamedTypeContext *>(ctx)) {
      out.name = name(t->ident());
    } else if (auto *t = dynamic_cast<P::ShapedTypeContext *>(ctx)) {
      out.name = name(t->ident());
      out.shaped = true;
      for (auto *arg : t->typeArg()) out.dims.push_back(arg->ellipsis ? nullptr : expr(arg->expr(), 0));
    } else if (auto *t = dynamic_cast<P::EnumTypeContext *>(ctx)) {
      auto idents = t->ident();
      out.name = name(idents[0]);
      for (size_t i = 1; i < idents.size(); ++i) out.enumValues.push_back(name(idents[i]));
    }
    return out;
  }

  ast::Constraint constraint(P::ConstraintContext *ctx) {
    ast::Constraint out;
    out.loc = loc(ctx);
    if (auto *c = dynamic_cast<P::IntervalConstraintContext *>(ctx)) {
      out.interval = true;
      out.loInclusive = c->open->getText() == "[";
      out.hiInclusive = c->close->getText() == "]";
      out.lo = expr(c->lo, 0);
      out.hi = expr(c->hi, 0);
    } else if (auto *c = dynamic_cast<P::CompareConstraintContext *>(ctx)) {
      out.op = c->op->getText();
      out.bound = expr(c->bound, 0);
    }
    return out;
  }

  void modelStmt(P::ModelStmtContext *ctx, std::vector<ast::ModelStmt> &out) {
    ast::ModelStmt s;
    s.loc = loc(ctx);
    if (auto *c = dynamic_cast<P::InputStmtContext *>(ctx)) {
      s.kind = ast::ModelStmt::Input;
      s.name = name(c->ident());
      s.type = type(c->type());
    } else if (auto *c = dynamic_cast<P::OutputStmtContext *>(ctx)) {
      s.kind = ast::ModelStmt::Output;
      s.name = name(c->ident());
      if (c->type()) s.type = type(c->type());
      s.value = expr(c->expr(), 0);
    } else if (auto *c = dynamic_cast<P::LetStmtContext *>(ctx)) {
      s.kind = ast::ModelStmt::Let;
      s.name = name(c->ident());
      s.value = expr(c->expr(), 0);
    } else if (auto *c = dynamic_cast<P::RepeatStmtContext *>(ctx)) {
      s.kind = ast::ModelStmt::Repeat;
      if (c->var) s.name = name(c->var);
      s.value = expr(c->count, 0);
      for (auto *inner : c->modelStmt()) modelStmt(inner, s.body);
    } else {
      return;  // `;`
    }
    out.push_back(std::move(s));
  }

  std::vector<ast::Field> block(P::BlockContext *ctx) {
    std::vector<ast::Field> out;
    for (auto *f : ctx->field()) {
      ast::Field field;
      field.loc = loc(f);
      if (auto *c = dynamic_cast<P::AssignFieldContext *>(f)) {
        field.kind = ast::Field::Assign;
        for (auto *part : c->path()->ident()) field.path.push_back(name(part));
        field.value = expr(c->expr(), 0);
      } else if (auto *c = dynamic_cast<P::SweepFieldContext *>(f)) {
        field.kind = ast::Field::Sweep;
        for (auto *part : c->path(0)->ident()) field.path.push_back(name(part));
        field.value = expr(c->expr(0), 0);
        if (c->when) {
          for (auto *part : c->when->ident()) field.whenPath.push_back(name(part));
          field.whenValues = expr(c->cond, 0);
        }
      } else if (auto *c = dynamic_cast<P::BlockFieldContext *>(f)) {
        field.kind = ast::Field::Block;
        field.path.push_back(name(c->ident()));
        field.block = block(c->block());
        field.blockLoc = loc(c->block());
      } else {
        continue;  // `;`
      }
      out.push_back(std::move(field));
    }
    return out;
  }

  ast::ExprPtr make(ast::ExprKind kind, Loc at) {
    auto e = std::make_unique<ast::Expr>();
    e->kind = kind;
    e->loc = at;
    return e;
  }

  // Depth-limited: the parse tree of `a + a + ... + a` is a left spine as
  // deep as the expression is long, and every later pass recurses on it.
  ast::ExprPtr expr(P::ExprContext *ctx, int depth) {
    Loc at = loc(ctx);
    if (depth > kMaxExprDepth) {
      if (!tooDeepReported_) diags_.report(Diag::ExpressionTooDeep, at, kMaxExprDepth);
      tooDeepReported_ = true;
      return make(ast::ExprKind::Int, at);
    }
    ++depth;
    using K = ast::ExprKind;
    if (auto *c = dynamic_cast<P::ParenExprContext *>(ctx)) return expr(c->expr(), depth);
    if (auto *c = dynamic_cast<P::IntExprContext *>(ctx)) {
      auto e = make(K::Int, at);
      e->intValue = parseInt(c->getText(), at);
      return e;
    }
    if (auto *c = dynamic_cast<P::FloatExprContext *>(ctx)) {
      auto e = make(K::Float, at);
      e->floatValue = parseFloat(c->getText(), at);
      return e;
    }
    if (auto *c = dynamic_cast<P::StringExprContext *>(ctx)) {
      auto e = make(K::String, at);
      e->text = unescape(c->getText(), at);
      return e;
    }
    if (auto *c = dynamic_cast<P::BoolExprContext *>(ctx)) {
      auto e = make(K::Bool, at);
      e->boolValue = c->getText() == "true";
      return e;
    }
    if (auto *c = dynamic_cast<P::NameExprContext *>(ctx)) {
      auto e = make(K::Name, at);
      e->text = c->getText();
      return e;
    }
    if (auto *c = dynamic_cast<P::MemberExprContext *>(ctx)) {
      auto e = make(K::Member, at);
      e->lhs = expr(c->expr(), depth);
      e->text = c->ident()->getText();
      e->nameLoc = loc(c->ident());
      return e;
    }
    if (auto *c = dynamic_cast<P::CallExprContext *>(ctx)) {
      auto e = make(K::Call, at);
      e->lhs = expr(c->expr(), depth);
      if (c->args()) {
        for (auto *a : c->args()->arg()) {
          ast::Arg arg;
          if (a->name) arg.name = name(a->name);
          arg.value = expr(a->expr(), depth);
          e->args.push_back(std::move(arg));
        }
      }
      return e;
    }
    if (auto *c = dynamic_cast<P::ListExprContext *>(ctx)) {
      auto e = make(K::List, at);
      for (auto *x : c->expr()) e->elements.push_back(expr(x, depth));
      return e;
    }
    if (auto *c = dynamic_cast<P::RecordExprContext *>(ctx)) {
      auto e = make(K::Record, at);
      for (auto *entry : c->recordEntry()) e->entries.push_back({name(entry->ident()), expr(entry->expr(), depth)});
      return e;
    }
    if (auto *c = dynamic_cast<P::UnaryExprContext *>(ctx)) {
      auto e = make(K::Unary, at);
      e->text = c->op->getText();
      e->lhs = expr(c->expr(), depth);
      return e;
    }
    if (auto *c = dynamic_cast<P::ObjectiveExprContext *>(ctx)) {
      auto e = make(K::Objective, at);
      e->text = c->goal->getText();
      e->lhs = expr(c->expr(), depth);
      return e;
    }
    auto *c = dynamic_cast<P::BinaryExprContext *>(ctx);
    auto e = make(K::Binary, at);
    e->text = c->op->getText();
    e->lhs = expr(c->expr(0), depth);
    e->rhs = expr(c->expr(1), depth);
    return e;
  }

  int64_t parseInt(const std::string &text, Loc at) {
    std::string digits;
    for (char ch : text)
      if (ch != '_') digits.push_back(ch);
    int64_t value = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || ptr != digits.data() + digits.size()) diags_.report(Diag::IntTooLarge, at, text);
    return value;
  }

  double parseFloat(const std::string &text, Loc at) {
    std::string digits;
    for (char ch : text)
      if (ch != '_') digits.push_back(ch);
    double value = std::strtod(digits.c_str(), nullptr);
    if (!std::isfinite(value)) diags_.report(Diag::FloatOutOfRange, at, text);
    return value;
  }

  // Escapes: \" \\ \n \t. Literal braces in name templates are written `{{`.
  std::string unescape(const std::string &quoted, Loc at) {
    std::string out;
    for (size_t i = 1; i + 1 < quoted.size(); ++i) {
      if (quoted[i] != '\\') {
        out.push_back(quoted[i]);
        continue;
      }
      char next = quoted[++i];
      switch (next) {
      case '"': case '\\': out.push_back(next); break;
      case 'n': out.push_back('\n'); break;
      case 't': out.push_back('\t'); break;
      default: {
        size_t len = 1;  // the whole UTF-8 character after the backslash
        while (i + len < quoted.size() && (static_cast<unsigned char>(quoted[i + len]) & 0xC0) == 0x80) ++len;
        Loc escLoc{at.file, at.begin + uint32_t(i) - 1, at.begin + uint32_t(i + len)};
        diags_.report(Diag::BadEscape, escLoc, quoted.substr(i, len)).note("valid escapes are \\\" \\\\ \\n \\t");
      }
      }
    }
    return out;
  }

  FileId file_;
  const OffsetMap &offsets_;
  Diagnostics &diags_;
  bool tooDeepReported_ = false;
};

}  // namespace

std::unique_ptr<ast::File> buildAst(P::FileContext *tree, FileId file, const OffsetMap &offsets, Diagnostics &diags) {
  Builder b(file, offsets, diags);
  size_t before = diags.errorReports();
  auto out = b.file(tree);
  if (diags.errorReports() > before) return nullptr;
  return out;
}

}  // namespace mlc
