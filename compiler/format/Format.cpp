#include "format/Format.h"

#include "MlpLexer.h"
#include "MlpParser.h"
#include "format/Doc.h"
#include "parse/Parse.h"

#include <antlr4-runtime.h>

#include <functional>

namespace mlc::format {

namespace {

using mlpgen::MlpLexer;
using P = mlpgen::MlpParser;
using antlr4::ParserRuleContext;
using antlr4::Token;
using antlr4::tree::ParseTree;
using antlr4::tree::TerminalNode;

bool isComment(const Token *t) {
  return t->getType() == MlpLexer::LINE_COMMENT || t->getType() == MlpLexer::BLOCK_COMMENT;
}
bool isSpace(const Token *t) { return t->getType() == MlpLexer::WS; }

size_t lastLine(const Token *t) {
  std::string s = t->getText();
  return t->getLine() + size_t(std::count(s.begin(), s.end(), '\n'));
}

std::string trimRight(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.pop_back();
  return s;
}

Token *terminal(ParseTree *t) { return static_cast<TerminalNode *>(t)->getSymbol(); }
bool isTerminal(ParseTree *t, const char *text) {
  auto *n = dynamic_cast<TerminalNode *>(t);
  return n && n->getSymbol()->getText() == text;
}

// Builds the document of one file from its ANTLR parse tree. Every
// default-channel token is placed exactly once, in source order, either
// printed (`tok`) or dropped (`drop`: optional `;` and trailing `,`), and the
// comments before it travel with it; so the formatted file has the same
// tokens in the same order, give or take separators, and every comment.
class Builder {
public:
  explicit Builder(const std::vector<Token *> &all) : all_(all) {}

  DocPtr file(P::FileContext *f) {
    std::vector<DocPtr> out;
    ParserRuleContext *previous = nullptr;
    for (ParseTree *child : f->children) {
      auto *item = dynamic_cast<P::ItemContext *>(child);
      if (!item) continue;
      ParserRuleContext *decl = declOf(item);
      if (!decl) {  // a stray `;`
        out.push_back(drop(item->getStart()));
        continue;
      }
      if (previous) {
        out.push_back(hardLine());
        if (blankBefore(decl->getStart()->getTokenIndex()) || isBlockDecl(previous) || isBlockDecl(decl))
          out.push_back(hardLine());
      }
      // Comments before a declaration stand outside its layout.
      out.push_back(concat(leading(decl->getStart()->getTokenIndex(), false)));
      out.push_back(declaration(decl));
      previous = decl;
    }
    out.push_back(concat(leading(f->EOF()->getSymbol()->getTokenIndex(), true)));
    return concat(std::move(out));
  }

private:
  // ---- tokens and the comments around them ---------------------------------

  // The comments before token `upto` not placed yet. Before a token they end
  // with the break or space that separated them from it; before a closing
  // bracket (`closing`) the bracket's own line break follows instead.
  std::vector<DocPtr> leading(size_t upto, bool closing) {
    std::vector<DocPtr> out;
    for (; next_ < upto; ++next_) {
      const Token *c = all_[next_];
      if (!isComment(c)) continue;
      const Token *before = visibleBefore(next_);
      const Token *after = visibleAfter(next_);
      bool own = !before || lastLine(before) < c->getLine();
      std::string body = trimRight(c->getText());
      if (own) {
        out.push_back(ownLine(body, before && c->getLine() >= lastLine(before) + 2));
      } else {
        if (closing) out.push_back(text(" "));
        out.push_back(text(body));
      }
      bool lastBeforeCloser = after && after->getTokenIndex() >= upto && closing;
      if (lastBeforeCloser || !after) continue;
      if (after->getLine() > lastLine(c)) {
        out.push_back(hardLine());
        // An empty line before the token itself (one before a comment is the
        // comment's own).
        if (after->getTokenIndex() >= upto && after->getLine() >= lastLine(c) + 2) out.push_back(hardLine());
      } else if (!closing) {
        out.push_back(text(" "));
      }
    }
    return out;
  }

  // The comments after token `at` on its line: `//` to the end of the line,
  // or `/* */` with nothing but comments after it on that line.
  std::vector<DocPtr> trailing(size_t at) {
    std::vector<DocPtr> out;
    size_t line = lastLine(all_[at]);
    for (size_t j = at + 1; j < all_.size(); ++j) {
      const Token *c = all_[j];
      if (isSpace(c)) {
        if (c->getText().find('\n') != std::string::npos) break;
        continue;
      }
      if (!isComment(c) || c->getLine() != line) break;
      if (c->getType() == MlpLexer::LINE_COMMENT) {
        out.push_back(lineSuffix(trimRight(c->getText())));
        out.push_back(breakParent());
        next_ = j + 1;
        break;
      }
      const Token *after = visibleAfter(j);
      if (after && !isComment(after) && after->getLine() == lastLine(c)) break;  // it leads that token
      out.push_back(text(" " + c->getText()));
      line = lastLine(c);
      next_ = j + 1;
    }
    return out;
  }

  DocPtr tok(const Token *t) {
    size_t at = t->getTokenIndex();
    std::vector<DocPtr> out = leading(at, false);
    out.push_back(text(t->getText()));
    next_ = at + 1;
    for (DocPtr &d : trailing(at)) out.push_back(std::move(d));
    return concat(std::move(out));
  }

  // A closing bracket of `group`: the comment after it on its line goes
  // after the group, so `f(a, b)  // note` does not break the call open.
  DocPtr closeGroup(std::vector<DocPtr> parts, const Token *closer) {
    size_t at = closer->getTokenIndex();
    std::vector<DocPtr> before = leading(at, false);
    parts.push_back(concat(std::move(before)));
    parts.push_back(text(closer->getText()));
    next_ = at + 1;
    return concat({group(std::move(parts)), concat(trailing(at))});
  }
  DocPtr tok(ParseTree *t) { return tok(terminal(t)); }
  DocPtr tok(TerminalNode *t) { return tok(t->getSymbol()); }

  // A token the canonical layout leaves out (`;`, a trailing `,`). A comment
  // after it on its line stays on the line of what precedes it; comments
  // before it wait for the next token printed.
  DocPtr drop(const Token *t) {
    size_t at = t->getTokenIndex();
    for (size_t i = next_; i < at; ++i)
      if (isComment(all_[i])) return text("");
    next_ = at + 1;
    return concat(trailing(at));
  }

  // The comments (or the token itself) right before a closing bracket, laid
  // out inside the bracket's indentation.
  DocPtr closingComments(const Token *closer) { return concat(leading(closer->getTokenIndex(), true)); }

  const Token *visibleBefore(size_t i) const {
    while (i-- > 0)
      if (!isSpace(all_[i])) return all_[i];
    return nullptr;
  }
  const Token *visibleAfter(size_t i) const {
    for (++i; i < all_.size(); ++i)
      if (!isSpace(all_[i]) && all_[i]->getType() != Token::EOF) return all_[i];
    return nullptr;
  }

  // Whether an empty line separates the token at `first` (or the comments on
  // their own lines before it) from what precedes it.
  bool blankBefore(size_t first) const {
    size_t i = first;
    while (i > 0 && (isSpace(all_[i - 1]) || isComment(all_[i - 1]))) --i;
    if (i == 0) return false;
    size_t end = lastLine(all_[i - 1]);
    for (; i <= first; ++i) {
      const Token *t = all_[i];
      if (isSpace(t)) continue;
      if (isComment(t) && t->getLine() == end) {
        end = lastLine(t);  // a trailing comment of the previous token
        continue;
      }
      return t->getLine() >= end + 2;
    }
    return false;
  }

  // Whether a comment stands on its own line between the token at `first`
  // and the previous token.
  bool ownLineCommentBefore(size_t first) const {
    for (size_t i = first; i > 0 && (isSpace(all_[i - 1]) || isComment(all_[i - 1])); --i) {
      const Token *c = all_[i - 1];
      const Token *before = visibleBefore(i - 1);
      if (isComment(c) && (!before || lastLine(before) < c->getLine())) return true;
    }
    return false;
  }

  bool hasCommentsInside(ParserRuleContext *ctx) const {
    for (size_t i = ctx->getStart()->getTokenIndex(); i < ctx->getStop()->getTokenIndex(); ++i)
      if (isComment(all_[i])) return true;
    return false;
  }

  // ---- declarations --------------------------------------------------------

  static ParserRuleContext *declOf(P::ItemContext *item) {
    if (item->importDecl()) return item->importDecl();
    if (item->datasetDecl()) return item->datasetDecl();
    if (item->modelDecl()) return item->modelDecl();
    if (item->experimentDecl()) return item->experimentDecl();
    if (item->externDecl()) return item->externDecl();
    return nullptr;
  }

  static bool isBlockDecl(ParserRuleContext *decl) {
    if (auto *d = dynamic_cast<P::DatasetDeclContext *>(decl)) return d->block() != nullptr;
    return dynamic_cast<P::ModelDeclContext *>(decl) || dynamic_cast<P::ExperimentDeclContext *>(decl);
  }

  DocPtr declaration(ParserRuleContext *decl) {
    if (auto *d = dynamic_cast<P::ImportDeclContext *>(decl)) return importDecl(d);
    if (auto *d = dynamic_cast<P::DatasetDeclContext *>(decl)) {
      std::vector<DocPtr> out{tok(d->DATASET()), text(" "), ident(d->name), text(" "), tok(d->children[2]),
                              text(" "), expr(d->source)};
      if (d->block()) out.insert(out.end(), {text(" "), block(d->block(), true)});
      return concat(std::move(out));
    }
    if (auto *d = dynamic_cast<P::ModelDeclContext *>(decl)) {
      std::vector<DocPtr> out{tok(d->MODEL()), text(" "), ident(d->name)};
      if (d->params()) out.push_back(params(d->params()));
      out.push_back(text(" "));
      out.push_back(modelBody(d, true));
      return concat(std::move(out));
    }
    if (auto *d = dynamic_cast<P::ExperimentDeclContext *>(decl))
      return concat({tok(d->EXPERIMENT()), text(" "), ident(d->name), text(" "), block(d->block(), true)});
    return externDecl(static_cast<P::ExternDeclContext *>(decl));
  }

  // import std.nn.*  |  import std.nn.{a, b}  |  import std.nn.linear
  DocPtr importDecl(P::ImportDeclContext *d) {
    std::vector<DocPtr> out{tok(d->IMPORT()), text(" ")};
    auto &kids = d->children;
    for (size_t i = 1; i < kids.size(); ++i) {
      if (isTerminal(kids[i], "{")) {
        out.push_back(delimited(d, i, kids.size() - 1, false, [&](ParseTree *t) { return any(t); }));
        break;
      }
      out.push_back(any(kids[i]));
    }
    return concat(std::move(out));
  }

  // `@goal(max) extern metric accuracy()`: annotations share the line when
  // everything fits, else each has a line of its own.
  DocPtr externDecl(P::ExternDeclContext *d) {
    std::vector<DocPtr> out;
    for (P::AnnotationContext *a : d->annotation()) {
      std::vector<DocPtr> ann{tok(a->children[0]), ident(a->ident())};
      if (a->children.size() > 2)
        ann.push_back(delimited(a, 2, a->children.size() - 1, false, [&](ParseTree *t) { return any(t); }));
      out.push_back(concat(std::move(ann)));
      out.push_back(line());
    }
    out.insert(out.end(), {tok(d->EXTERN()), text(" "), ident(d->kind), text(" "), ident(d->name)});
    if (d->params()) out.push_back(params(d->params()));
    if (d->result) {
      Token *arrow = d->params() ? d->params()->getStop() : d->name->getStop();
      out.insert(out.end(), {text(" "), tok(all_[nextVisible(arrow->getTokenIndex())]), text(" "), type(d->result)});
    }
    return group(std::move(out));
  }

  size_t nextVisible(size_t i) const {
    for (++i; i < all_.size(); ++i)
      if (all_[i]->getChannel() == 0) return i;
    return all_.size() - 1;
  }

  DocPtr params(P::ParamsContext *p) {
    return delimited(p, 0, p->children.size() - 1, false, [&](ParseTree *t) { return param(static_cast<P::ParamContext *>(t)); });
  }

  // name: type | type constraint = default
  DocPtr param(P::ParamContext *p) {
    std::vector<DocPtr> out;
    for (ParseTree *kid : p->children) {
      if (isTerminal(kid, ":")) {
        out.push_back(tok(kid));
        out.push_back(text(" "));
      } else if (isTerminal(kid, "|") || isTerminal(kid, "=")) {
        out.insert(out.end(), {text(" "), tok(kid), text(" ")});
      } else if (dynamic_cast<P::ConstraintContext *>(kid)) {
        out.insert(out.end(), {text(" "), constraint(static_cast<P::ConstraintContext *>(kid))});
      } else {
        out.push_back(any(kid));
      }
    }
    return concat(std::move(out));
  }

  // Types stay on one line: a signature breaks its parameters first.
  DocPtr type(P::TypeContext *t) {
    bool outer = flatLists_;
    flatLists_ = true;
    DocPtr d = typeInner(t);
    flatLists_ = outer;
    return d;
  }

  DocPtr typeInner(P::TypeContext *t) {
    if (auto *s = dynamic_cast<P::ShapedTypeContext *>(t))
      return concat({ident(s->ident()),
                     delimited(s, 1, s->children.size() - 1, false, [&](ParseTree *k) { return typeArg(k); })});
    if (auto *e = dynamic_cast<P::EnumTypeContext *>(t))
      return concat({ident(e->ident(0)), delimited(e, 1, e->children.size() - 1, false, [&](ParseTree *k) { return any(k); })});
    return ident(static_cast<P::NamedTypeContext *>(t)->ident());
  }

  DocPtr typeArg(ParseTree *t) {
    auto *a = static_cast<P::TypeArgContext *>(t);
    return a->ellipsis ? tok(a->ellipsis) : expr(a->expr());
  }

  // in [lo, hi)  |  > bound
  DocPtr constraint(P::ConstraintContext *c) {
    if (auto *i = dynamic_cast<P::IntervalConstraintContext *>(c))
      return concat({tok(i->IN()), text(" "), tok(i->open), expr(i->lo), tok(i->children[3]), text(" "), expr(i->hi),
                     tok(i->close)});
    auto *k = static_cast<P::CompareConstraintContext *>(c);
    return concat({tok(k->op), text(" "), expr(k->bound)});
  }

  // ---- blocks and statements -----------------------------------------------

  // One element of a brace body: its doc, split where alignment pads.
  struct Element {
    DocPtr lead;            // the comments on lines of their own before it
    DocPtr head, rest;      // rest empty: not alignable
    size_t first = 0;       // its first token
    bool alignable = false;
  };

  // `{ a = 1; b = 2 }` when it fits and may be flat, else one element a line,
  // with the `=` of neighbouring one-line fields in one column.
  DocPtr body(ParserRuleContext *ctx, size_t open, size_t close, bool forced, bool align,
              const std::function<Element(ParserRuleContext *)> &element) {
    auto &kids = ctx->children;
    DocPtr openDoc = tok(kids[open]);
    ++depth_;
    std::vector<Element> elements;
    std::vector<DocPtr> pending;  // comments of dropped `;` before the first element
    for (size_t i = open + 1; i < close; ++i) {
      auto *kid = static_cast<ParserRuleContext *>(kids[i]);
      if (dynamic_cast<P::EmptyFieldContext *>(kid) || dynamic_cast<P::EmptyModelStmtContext *>(kid)) {
        DocPtr dropped = drop(kid->getStart());
        if (elements.empty()) pending.push_back(dropped);
        else elements.back().rest = concat({elements.back().rest ? elements.back().rest : text(""), dropped});
        continue;
      }
      DocPtr lead = concat(leading(kid->getStart()->getTokenIndex(), false));
      Element e = element(kid);
      e.lead = lead;
      elements.push_back(std::move(e));
    }
    DocPtr closers = closingComments(terminal(kids[close]));
    --depth_;
    if (elements.empty() && !forcesBreak(*closers))
      return closeGroup({openDoc, concat(pending), closers}, terminal(kids[close]));

    // Runs of alignable elements: consecutive, no empty line or comment line
    // between them.
    std::vector<size_t> pad(elements.size(), 0);
    if (align) {
      for (size_t i = 0; i < elements.size();) {
        size_t j = i, widest = 0;
        while (j < elements.size() && elements[j].alignable &&
               (j == i || (!blankBefore(elements[j].first) && !ownLineCommentBefore(elements[j].first)))) {
          widest = std::max(widest, size_t(flatWidth(*elements[j].head)));
          ++j;
        }
        for (size_t k = i; k < j; ++k) pad[k] = widest - size_t(flatWidth(*elements[k].head));
        i = j == i ? i + 1 : j;
      }
    }
    std::vector<DocPtr> inner{concat(pending)};
    for (size_t i = 0; i < elements.size(); ++i) {
      if (i > 0) {
        inner.push_back(ifBreak(text(""), text(";")));
        inner.push_back(forced ? hardLine() : line());
        if (blankBefore(elements[i].first)) inner.push_back(hardLine());
      } else {
        inner.push_back(forced ? hardLine() : line());
      }
      inner.push_back(elements[i].lead);
      inner.push_back(elements[i].head);
      if (pad[i]) inner.push_back(ifBreak(text(std::string(pad[i], ' ')), text("")));
      if (elements[i].rest) inner.push_back(elements[i].rest);
    }
    inner.push_back(closers);
    return closeGroup({openDoc, nest(2, std::move(inner)), forced ? hardLine() : line()}, terminal(kids[close]));
  }

  DocPtr block(P::BlockContext *b, bool forced) {
    int indent = 2 * (depth_ + 1);
    return body(b, 0, b->children.size() - 1, forced, true, [&](ParserRuleContext *t) {
      auto *f = static_cast<P::FieldContext *>(t);
      Element e;
      e.first = f->getStart()->getTokenIndex();
      if (auto *a = dynamic_cast<P::AssignFieldContext *>(f)) {
        e.head = path(a->path());
        e.rest = concat({text(" "), tok(a->children[1]), text(" "), expr(a->expr())});
      } else if (auto *s = dynamic_cast<P::SweepFieldContext *>(f)) {
        std::vector<DocPtr> out{path(s->path(0)), text(" "), tok(s->children[1]), text(" "), expr(s->expr(0))};
        if (s->WHEN())
          out.insert(out.end(), {text(" "), tok(s->WHEN()), text(" "), path(s->when), text(" "), tok(s->IN()),
                                 text(" "), expr(s->cond)});
        e.head = concat(std::move(out));
        return e;
      } else {
        auto *k = static_cast<P::BlockFieldContext *>(f);
        e.head = ident(k->ident());
        e.rest = concat({text(" "), block(k->block(), false)});
      }
      int width = flatWidth(*concat({e.head, e.rest}));
      e.alignable = width >= 0 && indent + width <= kLineWidth && !hasCommentsInside(f);
      return e;
    });
  }

  // The `{ ... }` of a model or a `repeat`.
  DocPtr modelBody(ParserRuleContext *ctx, bool forced) {
    size_t open = 0;
    while (!isTerminal(ctx->children[open], "{")) ++open;
    return body(ctx, open, ctx->children.size() - 1, forced, false, [&](ParserRuleContext *t) {
      auto *s = static_cast<P::ModelStmtContext *>(t);
      Element e;
      e.first = s->getStart()->getTokenIndex();
      e.head = modelStmt(s);
      return e;
    });
  }

  DocPtr modelStmt(P::ModelStmtContext *s) {
    if (auto *r = dynamic_cast<P::RepeatStmtContext *>(s)) {
      std::vector<DocPtr> out{tok(r->REPEAT()), text(" ")};
      if (r->var) out.insert(out.end(), {ident(r->var), text(" "), tok(r->IN()), text(" ")});
      out.insert(out.end(), {expr(r->count), text(" "), modelBody(r, false)});
      return concat(std::move(out));
    }
    std::vector<DocPtr> out;
    for (ParseTree *kid : s->children) {
      if (isTerminal(kid, ":")) {
        out.push_back(tok(kid));
      } else if (isTerminal(kid, "=")) {
        out.insert(out.end(), {text(" "), tok(kid), text(" ")});
      } else if (auto *t = dynamic_cast<P::TypeContext *>(kid)) {
        out.insert(out.end(), {text(" "), type(t)});
      } else {
        if (!out.empty() && dynamic_cast<TerminalNode *>(kid) == nullptr && !dynamic_cast<P::ExprContext *>(kid))
          out.push_back(text(" "));  // `input x`, `output y`
        out.push_back(any(kid));
      }
    }
    return concat(std::move(out));
  }

  DocPtr path(P::PathContext *p) {
    std::vector<DocPtr> out;
    for (ParseTree *kid : p->children) out.push_back(any(kid));
    return concat(std::move(out));
  }

  DocPtr ident(P::IdentContext *i) { return tok(i->getStart()); }

  // ---- expressions -----------------------------------------------------------

  DocPtr expr(P::ExprContext *e) {
    if (auto *c = dynamic_cast<P::CallExprContext *>(e)) {
      DocPtr callee = expr(c->expr());
      if (!c->args()) {
        DocPtr open = tok(c->children[1]);
        return concat({callee, closeGroup({open, closingComments(terminal(c->children[2]))}, terminal(c->children[2]))});
      }
      // The arguments live in `args`; the parentheses in the call itself.
      auto *a = c->args();
      std::vector<DocPtr> inner{softLine()};
      DocPtr open = tok(c->children[1]);
      std::vector<ParseTree *> &kids = a->children;
      for (size_t i = 0; i < kids.size(); ++i) {
        if (isTerminal(kids[i], ",")) {
          if (i + 1 == kids.size()) {
            inner.push_back(ifBreak(text(","), text("")));
            inner.push_back(drop(terminal(kids[i])));
          } else {
            inner.push_back(tok(kids[i]));
            inner.push_back(line());
          }
          continue;
        }
        inner.push_back(arg(static_cast<P::ArgContext *>(kids[i])));
        if (i + 1 == kids.size()) inner.push_back(ifBreak(text(","), text("")));
      }
      Token *closer = terminal(c->children[3]);
      inner.push_back(closingComments(closer));
      return concat({callee, closeGroup({open, nest(2, std::move(inner)), softLine()}, closer)});
    }
    if (auto *m = dynamic_cast<P::MemberExprContext *>(e))
      return concat({expr(m->expr()), tok(m->children[1]), ident(m->ident())});
    if (auto *u = dynamic_cast<P::UnaryExprContext *>(e)) return concat({tok(u->op), expr(u->expr())});
    if (auto *b = dynamic_cast<P::BinaryExprContext *>(e)) {
      if (b->op->getText() == "..") return concat({expr(b->expr(0)), tok(b->op), expr(b->expr(1))});
      return concat({expr(b->expr(0)), text(" "), tok(b->op), text(" "), expr(b->expr(1))});
    }
    if (auto *o = dynamic_cast<P::ObjectiveExprContext *>(e)) return concat({tok(o->goal), text(" "), expr(o->expr())});
    if (auto *p = dynamic_cast<P::ParenExprContext *>(e))
      return concat({tok(p->children[0]), expr(p->expr()), tok(p->children[2])});
    if (auto *l = dynamic_cast<P::ListExprContext *>(e))
      return delimited(l, 0, l->children.size() - 1, false, [&](ParseTree *t) { return any(t); });
    if (auto *r = dynamic_cast<P::RecordExprContext *>(e))
      return delimited(r, 0, r->children.size() - 1, true, [&](ParseTree *t) {
        auto *entry = static_cast<P::RecordEntryContext *>(t);
        return concat({ident(entry->ident()), tok(entry->children[1]), text(" "), expr(entry->expr())});
      });
    if (auto *n = dynamic_cast<P::NameExprContext *>(e)) return ident(n->ident());
    return tok(e->getStart());  // a literal
  }

  // name = value  |  value
  DocPtr arg(P::ArgContext *a) {
    if (!a->name) return expr(a->expr());
    return concat({ident(a->name), text(" "), tok(a->children[1]), text(" "), expr(a->expr())});
  }

  // A child with no layout of its own: a terminal, a name or an expression.
  DocPtr any(ParseTree *t) {
    if (dynamic_cast<TerminalNode *>(t)) return tok(t);
    if (auto *i = dynamic_cast<P::IdentContext *>(t)) return ident(i);
    if (auto *e = dynamic_cast<P::ExprContext *>(t)) return expr(e);
    if (auto *ty = dynamic_cast<P::TypeContext *>(t)) return type(ty);
    return tok(static_cast<ParserRuleContext *>(t)->getStart());
  }

  // `open elem, elem, ... close` (children open..close of ctx): on one line if
  // it fits, else one element a line with a trailing comma.
  DocPtr delimited(ParserRuleContext *ctx, size_t open, size_t close, bool spaced,
                   const std::function<DocPtr(ParseTree *)> &element) {
    auto &kids = ctx->children;
    DocPtr openDoc = tok(kids[open]);
    std::vector<DocPtr> inner{spaced ? line() : softLine()};
    size_t count = 0;
    for (size_t i = open + 1; i < close; ++i) {
      if (isTerminal(kids[i], ",")) {
        if (i + 1 == close) {
          inner.push_back(drop(terminal(kids[i])));
        } else {
          inner.push_back(tok(kids[i]));
          inner.push_back(line());
        }
        continue;
      }
      inner.push_back(element(kids[i]));
      ++count;
      if (i + 1 == close || (i + 2 == close && isTerminal(kids[i + 1], ","))) inner.push_back(ifBreak(text(","), text("")));
    }
    Token *closer = terminal(kids[close]);
    DocPtr closers = closingComments(closer);
    if (count == 0 && !forcesBreak(*closers)) return closeGroup({openDoc, closers}, closer);
    inner.push_back(closers);
    if (flatLists_) return closeGroup({openDoc, flatten(inner)}, closer);
    return closeGroup({openDoc, nest(2, std::move(inner)), spaced ? line() : softLine()}, closer);
  }

  // The list with its breaks as a flat group would print them: `a, b`.
  static DocPtr flatten(const std::vector<DocPtr> &inner) {
    std::vector<DocPtr> out;
    for (const DocPtr &d : inner) {
      if (d->kind == Doc::SoftLine) continue;
      if (d->kind == Doc::Line) out.push_back(text(" "));
      else if (d->kind == Doc::IfBreak) out.push_back(d->parts[1]);
      else out.push_back(d);
    }
    return concat(std::move(out));
  }

  const std::vector<Token *> &all_;
  bool flatLists_ = false;  // inside a type
  size_t next_ = 0;  // the first token whose comments are not placed yet
  int depth_ = 0;    // brace nesting, for the width of a field's line
};

}  // namespace

std::optional<std::string> formatFile(const SourceManager &sources, FileId file, Diagnostics &diags) {
  // The compiler's own parser decides whether the file is well-formed (with
  // its diagnostics and limits); the formatter then reads the same text again
  // whole, keeping the comments the AST has no place for.
  size_t errorsBefore = diags.errorReports();
  auto ast = parseFile(sources, file, diags);
  if (!ast || ast->hasErrors || diags.errorReports() > errorsBefore) return std::nullopt;

  std::string_view source = sources.text(file);
  bool bom = source.substr(0, 3) == "\xEF\xBB\xBF";
  if (bom) source.remove_prefix(3);
  antlr4::ANTLRInputStream input(source.data(), source.size());
  MlpLexer lexer(&input);
  lexer.removeErrorListeners();
  antlr4::CommonTokenStream tokens(&lexer);
  tokens.fill();
  P parser(&tokens);
  parser.removeErrorListeners();
  parser.setErrorHandler(std::make_shared<antlr4::BailErrorStrategy>());
  P::FileContext *tree = parser.file();
  std::vector<Token *> all = tokens.getTokens();
  Builder builder(all);
  std::string out = print(*builder.file(tree), kLineWidth);
  return bom ? "\xEF\xBB\xBF" + out : out;
}

}  // namespace mlc::format
