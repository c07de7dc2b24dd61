#include "parse/Parse.h"

#include "MlpLexer.h"
#include "MlpParser.h"
#include "parse/AstBuilder.h"
#include "parse/SourceChecks.h"

#include <antlr4-runtime.h>

namespace mlc {

namespace {

using mlpgen::MlpLexer;
using mlpgen::MlpParser;

Loc tokenLoc(const antlr4::Token *t, FileId file, const OffsetMap &offsets) {
  if (t->getType() == antlr4::Token::EOF) {
    uint32_t at = offsets.byteOffset(t->getStartIndex());
    return {file, at, at};
  }
  return {file, offsets.byteOffset(t->getStartIndex()), offsets.byteOffset(t->getStopIndex() + 1)};
}

// The keywords the grammar's `ident` rule also accepts as names.
bool isSoftKeyword(size_t type) {
  switch (type) {
  case MlpLexer::IMPORT: case MlpLexer::DATASET: case MlpLexer::MODEL: case MlpLexer::EXPERIMENT:
  case MlpLexer::EXTERN: case MlpLexer::INPUT: case MlpLexer::OUTPUT: case MlpLexer::REPEAT: case MlpLexer::WHEN:
    return true;
  default:
    return false;
  }
}

std::string describeToken(const antlr4::Token *t) {
  if (t->getType() == antlr4::Token::EOF) return "end of file";
  std::string text = t->getText();
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  switch (t->getType()) {
  case MlpLexer::STRING: return "string " + text;
  case MlpLexer::INT: case MlpLexer::FLOAT: return "number `" + text + "`";
  default: return "`" + text + "`";
  }
}

// Names the expected token set the way a person would: "an expression"
// rather than fifteen token names.
std::string describeExpected(const antlr4::misc::IntervalSet &expected, const antlr4::dfa::Vocabulary &vocab) {
  bool expression = expected.contains(size_t(MlpLexer::INT)) && expected.contains(size_t(MlpLexer::STRING));
  bool name = expected.contains(size_t(MlpLexer::IDENT));
  // Keywords double as names, so a place expecting a name also "expects"
  // `model`; only without a name is this the start of a declaration.
  bool declaration = !name && expected.contains(size_t(MlpLexer::MODEL)) &&
                     expected.contains(size_t(MlpLexer::EXPERIMENT)) && expected.contains(size_t(MlpLexer::IMPORT));
  if (expression) return "an expression";
  if (declaration) return "`import`, `dataset`, `model`, `experiment` or `extern`";
  std::vector<std::string> names;
  for (ssize_t t : expected.toList()) {
    if (t < 0) continue;
    if (t == MlpLexer::IDENT || (name && isSoftKeyword(size_t(t)))) continue;
    if (size_t(t) == antlr4::Token::EOF) { names.push_back("end of file"); continue; }
    std::string literal = vocab.getLiteralName(t);
    if (!literal.empty()) names.push_back("`" + literal.substr(1, literal.size() - 2) + "`");
  }
  if (name) names.insert(names.begin(), "a name");
  if (names.empty()) return "something else";
  if (names.size() > 6) return "a statement";
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out += i + 1 == names.size() ? " or " : ", ";
    out += names[i];
  }
  return out;
}

// Reports the first syntax error of a declaration in the project's format.
class SyntaxErrorListener : public antlr4::BaseErrorListener {
public:
  SyntaxErrorListener(FileId file, const OffsetMap &offsets, Diagnostics &diags, bool moreFollows)
      : file_(file), offsets_(offsets), diags_(diags), moreFollows_(moreFollows) {}

  void syntaxError(antlr4::Recognizer *recognizer, antlr4::Token *offending, size_t, size_t,
                   const std::string &, std::exception_ptr error) override {
    if (count_++ > 0 || !offending) return;
    Loc loc = tokenLoc(offending, file_, offsets_);
    auto *parser = static_cast<antlr4::Parser *>(recognizer);
    // The exception knows the state where prediction failed; the parser's
    // current state may already be an outer rule's.
    antlr4::misc::IntervalSet expected;
    try {
      if (error) std::rethrow_exception(error);
      expected = parser->getExpectedTokens();
    } catch (const antlr4::NoViableAltException &) {
      // Several alternatives were possible up to here and none fits; their
      // union would be a list of everything, so name only the culprit.
    } catch (const antlr4::RecognitionException &e) {
      expected = e.getExpectedTokens();
    }
    if (expected.isEmpty())
      diags_.report(Diag::UnexpectedToken, loc, found(offending));
    else
      diags_.report(Diag::ExpectedToken, loc, describeExpected(expected, parser->getVocabulary()), found(offending));
  }
  size_t count() const { return count_; }

private:
  // A chunk's EOF stands where the next declaration begins.
  std::string found(const antlr4::Token *t) const {
    if (t->getType() == antlr4::Token::EOF && moreFollows_) return "the next declaration";
    return describeToken(t);
  }

  FileId file_;
  const OffsetMap &offsets_;
  Diagnostics &diags_;
  bool moreFollows_;
  size_t count_ = 0;
};

void mergeInto(ast::File &into, ast::File &&part) {
  using K = ast::File::DeclKind;
  for (auto [kind, i] : part.order) {
    switch (kind) {
    case K::Import: into.imports.push_back(std::move(part.imports[i])); into.order.emplace_back(kind, into.imports.size() - 1); break;
    case K::Dataset: into.datasets.push_back(std::move(part.datasets[i])); into.order.emplace_back(kind, into.datasets.size() - 1); break;
    case K::Model: into.models.push_back(std::move(part.models[i])); into.order.emplace_back(kind, into.models.size() - 1); break;
    case K::Experiment: into.experiments.push_back(std::move(part.experiments[i])); into.order.emplace_back(kind, into.experiments.size() - 1); break;
    case K::Extern: into.externs.push_back(std::move(part.externs[i])); into.order.emplace_back(kind, into.externs.size() - 1); break;
    }
  }
}

// Stops a declaration's parse at its first syntax error. Only that error is
// reported, and ANTLR's recovery after it is not just useless here but can
// be quadratic in the length of what follows.
class StopAtFirstError : public antlr4::DefaultErrorStrategy {
public:
  void recover(antlr4::Parser *, std::exception_ptr) override { throw antlr4::ParseCancellationException(); }
  antlr4::Token *recoverInline(antlr4::Parser *parser) override {
    DefaultErrorStrategy::recoverInline(parser);  // reports, or throws to recover() above
    throw antlr4::ParseCancellationException();
  }
  void sync(antlr4::Parser *parser) override {
    DefaultErrorStrategy::sync(parser);
    if (parser->getNumberOfSyntaxErrors() > 0) throw antlr4::ParseCancellationException();
  }
};

// Reports the lexer's error tokens and brackets nested too deep for the
// recursive parser. Returns false when parsing must not start.
bool checkTokens(const std::vector<antlr4::Token *> &all, FileId file, const OffsetMap &offsets, Diagnostics &diags) {
  bool ok = true;
  int depth = 0, unaryRun = 0;
  for (antlr4::Token *t : all) {
    Loc loc = tokenLoc(t, file, offsets);
    switch (t->getType()) {
    case MlpLexer::UNTERMINATED_STRING:
      diags.report(Diag::UnterminatedString, loc).note("strings end with `\"` on the line they start");
      ok = false;
      break;
    case MlpLexer::UNTERMINATED_COMMENT:
      diags.report(Diag::UnterminatedComment, {file, loc.begin, loc.begin + 2}).note("close it with `*/`");
      ok = false;
      break;
    case MlpLexer::BAD_NUMBER:
      diags.report(Diag::MalformedNumber, loc, t->getText());
      ok = false;
      break;
    case MlpLexer::UNKNOWN_CHAR:
      diags.report(Diag::UnexpectedChar, loc, t->getText());
      ok = false;
      break;
    default: break;
    }
    std::string text = t->getType() == antlr4::Token::EOF || t->getChannel() != 0 ? "" : t->getText();
    if (text == "(" || text == "[" || text == "{") {
      if (++depth > kMaxBracketDepth) {
        diags.report(Diag::NestingTooDeep, loc, kMaxBracketDepth);
        return false;
      }
    } else if (text == ")" || text == "]" || text == "}") {
      depth = depth > 0 ? depth - 1 : 0;
    }
    if (text == "-" || text == "+" || t->getType() == MlpLexer::MINIMIZE || t->getType() == MlpLexer::MAXIMIZE) {
      if (++unaryRun > kMaxBracketDepth) {
        diags.report(Diag::ExpressionTooDeep, loc, kMaxBracketDepth);
        return false;
      }
    } else if (!text.empty()) {
      unaryRun = 0;
    }
  }
  return ok;
}

// Splits the token stream into top-level declarations. Each is parsed on its
// own and reports only its first syntax error: ANTLR's in-rule recovery
// guesses, and its guesses cascade into errors that are not the user's. A
// declaration keyword at depth 0, or at the start of a line, begins a new
// chunk, so one unclosed brace does not swallow the rest of the file.
std::vector<std::pair<size_t, size_t>> splitDeclarations(const std::vector<antlr4::Token *> &all) {
  std::vector<std::pair<size_t, size_t>> chunks;
  int depth = 0;
  size_t start = SIZE_MAX;
  bool chunkHasExtern = false, chunkIsAnnotated = false;
  size_t previous = 0;  // type of the previous default-channel token
  for (size_t i = 0; i < all.size(); ++i) {
    antlr4::Token *t = all[i];
    if (t->getChannel() != 0 || t->getType() == antlr4::Token::EOF) continue;
    size_t type = t->getType();
    bool afterExtern = previous == MlpLexer::EXTERN;  // `extern model X`: `model` is the kind
    previous = type;
    bool declKeyword = !afterExtern && (type == MlpLexer::IMPORT || type == MlpLexer::DATASET || type == MlpLexer::MODEL ||
                                        type == MlpLexer::EXPERIMENT || type == MlpLexer::EXTERN || t->getText() == "@");
    // Inside braces, a keyword at the start of a line begins a declaration
    // only in declaration form (`model M`), not as a field (`model = ...`).
    bool atLineStart = t->getCharPositionInLine() == 0;
    bool declarationForm = false;
    if (declKeyword && atLineStart && depth > 0) {
      for (size_t j = i + 1; j < all.size(); ++j) {
        if (all[j]->getChannel() != 0) continue;
        size_t next = all[j]->getType();
        declarationForm = t->getText() == "@" || next == MlpLexer::IDENT || isSoftKeyword(next);
        break;
      }
    }
    bool startsChunk = declKeyword && (depth == 0 || declarationForm);
    if ((type == MlpLexer::EXTERN || t->getText() == "@") && start != SIZE_MAX && chunkIsAnnotated &&
        !chunkHasExtern && depth == 0)
      startsChunk = false;  // `@goal(max) @task(x) extern ...` is one declaration
    if (startsChunk || start == SIZE_MAX) {
      if (start != SIZE_MAX) chunks.emplace_back(start, i);
      start = i;
      depth = 0;
      chunkHasExtern = false;
      chunkIsAnnotated = t->getText() == "@";
    }
    if (type == MlpLexer::EXTERN) chunkHasExtern = true;
    std::string text = t->getText();
    if (text == "(" || text == "[" || text == "{") ++depth;
    else if ((text == ")" || text == "]" || text == "}") && depth > 0) --depth;
  }
  if (start != SIZE_MAX) chunks.emplace_back(start, all.size() - 1);  // up to EOF
  return chunks;
}

// Feeds one chunk of an already-lexed file to a parser, ending in an EOF
// token placed where the next declaration starts.
std::unique_ptr<antlr4::ListTokenSource> chunkSource(const std::vector<antlr4::Token *> &all, size_t begin, size_t end) {
  std::vector<std::unique_ptr<antlr4::Token>> list;
  for (size_t i = begin; i < end; ++i) list.push_back(std::make_unique<antlr4::CommonToken>(all[i]));
  auto eof = std::make_unique<antlr4::CommonToken>(all[end]);
  eof->setType(antlr4::Token::EOF);
  eof->setStopIndex(eof->getStartIndex() - 1);
  list.push_back(std::move(eof));
  return std::make_unique<antlr4::ListTokenSource>(std::move(list));
}

}  // namespace

std::unique_ptr<ast::File> parseFile(const SourceManager &sources, FileId file, Diagnostics &diags) {
  if (!checkSourceBytes(sources, file, diags)) return nullptr;
  std::string_view text = sources.text(file);
  // A UTF-8 byte order mark is not part of the program; offsets skip it.
  uint32_t bom = text.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;
  OffsetMap offsets(text.substr(bom), bom);

  antlr4::ANTLRInputStream input(text.data() + bom, text.size() - bom);
  MlpLexer lexer(&input);
  lexer.removeErrorListeners();  // the lexer has catch-all error tokens instead
  antlr4::CommonTokenStream tokens(&lexer);
  tokens.fill();
  // ANTLR's getTokens() returns a copy: take it once, not per declaration.
  const std::vector<antlr4::Token *> all = tokens.getTokens();
  if (all.size() > kMaxTokens) {
    diags.report(Diag::TooManyTokens, {file, 0, 0}, kMaxTokens);
    return nullptr;
  }
  if (!checkTokens(all, file, offsets, diags)) return nullptr;

  auto result = std::make_unique<ast::File>();
  result->id = file;
  // The name a failed declaration would have defined: `model M ...` -> M.
  auto declaredName = [&](size_t begin, size_t end) -> std::optional<ast::Name> {
    std::vector<antlr4::Token *> seen;
    for (size_t i = begin; i < end && seen.size() < 2; ++i)
      if (all[i]->getChannel() == 0) seen.push_back(all[i]);
    if (seen.size() < 2) return std::nullopt;
    size_t kind = seen[0]->getType();
    if ((kind == MlpLexer::MODEL || kind == MlpLexer::DATASET || kind == MlpLexer::EXPERIMENT) &&
        seen[1]->getType() == MlpLexer::IDENT)
      return ast::Name{seen[1]->getText(), tokenLoc(seen[1], file, offsets)};
    // `@a(...) extern kind name`: the name follows the kind after `extern`.
    for (size_t i = begin; i + 2 < end; ++i)
      if (all[i]->getType() == MlpLexer::EXTERN) {
        std::vector<antlr4::Token *> next;
        for (size_t j = i + 1; j < end && next.size() < 2; ++j)
          if (all[j]->getChannel() == 0) next.push_back(all[j]);
        if (next.size() == 2 && next[1]->getType() == MlpLexer::IDENT)
          return ast::Name{next[1]->getText(), tokenLoc(next[1], file, offsets)};
        break;
      }
    return std::nullopt;
  };
  for (auto [begin, end] : splitDeclarations(all)) {
    auto source = chunkSource(all, begin, end);
    antlr4::CommonTokenStream chunkTokens(source.get());
    MlpParser parser(&chunkTokens);
    parser.removeErrorListeners();
    SyntaxErrorListener listener(file, offsets, diags, end + 1 < all.size());
    parser.addErrorListener(&listener);
    parser.setErrorHandler(std::make_shared<StopAtFirstError>());
    MlpParser::FileContext *tree = nullptr;
    try {
      tree = parser.file();
    } catch (const antlr4::ParseCancellationException &) {
    }
    std::unique_ptr<ast::File> part;
    if (listener.count() == 0 && tree) part = buildAst(tree, file, offsets, diags);
    if (!part) {
      result->hasErrors = true;
      if (auto name = declaredName(begin, end)) result->failedDecls.push_back(*name);
      continue;
    }
    mergeInto(*result, std::move(*part));
  }
  if (result->order.empty() && !result->hasErrors) {
    diags.report(Diag::EmptyFile, {file, 0, 0}, sources.path(file));
    return nullptr;
  }
  return result;
}

}  // namespace mlc
