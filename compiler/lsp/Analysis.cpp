#include "lsp/Analysis.h"

#include "sema/DatasetCheck.h"
#include "sema/ExperimentSchema.h"

#include <algorithm>
#include <filesystem>
#include <set>

namespace mlc::lsp {

namespace {

bool contains(Loc loc, FileId file, uint32_t offset) {
  return loc.file == file && loc.begin <= offset && offset <= loc.end;
}

// Finds what the name at `offset` of the root file refers to, walking its
// AST the way sema resolves names: model-local names first, then the
// declarations visible from the file.
class Finder {
public:
  Finder(const sema::Program &program, FileId file, uint32_t offset) : p_(program), file_(file), at_(offset) {}

  Hit run(const ast::File &f) {
    for (const ast::Import &i : f.imports)
      for (const ast::Name &n : i.names) decl(n);
    for (const ast::Dataset &d : f.datasets) {
      decl(d.name);
      expr(d.source.get());
      std::string kind = d.source && d.source->kind == ast::ExprKind::Call && d.source->lhs ? d.source->lhs->text : "";
      fields(d.fields, "dataset:" + kind, {});
    }
    for (const ast::Model &m : f.models) {
      model_ = &m;
      decl(m.name);
      params(m.params, p_.lookup(file_, m.name.text));
      stmts(m.body);
      model_ = nullptr;
    }
    for (const ast::Experiment &e : f.experiments) {
      decl(e.name);
      fields(e.fields, "experiment", {});
    }
    for (const ast::Extern &e : f.externs) {
      decl(e.name);
      params(e.params, p_.lookup(file_, e.name.text));
    }
    return hit_;
  }

private:
  bool here(Loc loc) const { return hit_.kind == Hit::None && contains(loc, file_, at_); }

  void decl(const ast::Name &n) {
    if (!here(n.loc)) return;
    if (const sema::Decl *d = p_.lookup(file_, n.text)) {
      hit_.kind = Hit::Decl;
      hit_.decl = d;
      hit_.loc = n.loc;
    }
  }

  void params(const std::vector<ast::Param> &ps, const sema::Decl *owner) {
    for (const ast::Param &p : ps) {
      if (here(p.name.loc) && owner) {
        hit_ = {Hit::Param, p.name.loc, owner, p.name.text, {}, {}, nullptr, {}};
        return;
      }
      expr(p.defaultValue.get());
    }
  }

  void fields(const std::vector<ast::Field> &fs, const std::string &section, std::vector<std::string> path) {
    for (const ast::Field &f : fs) {
      if (f.path.empty()) continue;
      std::vector<std::string> own = path;
      own.push_back(f.path[0].text);
      if (here(f.path[0].loc) && f.kind != ast::Field::Sweep) {
        hit_ = {Hit::Field, f.path[0].loc, nullptr, {}, own, section, nullptr, {}};
        return;
      }
      expr(f.value.get());
      expr(f.whenValues.get());
      if (f.kind == ast::Field::Block) fields(f.block, section, own);
    }
  }

  void stmts(const std::vector<ast::ModelStmt> &body) {
    for (const ast::ModelStmt &s : body) {
      if (s.kind != ast::ModelStmt::Repeat && here(s.name.loc)) {
        hit_ = {Hit::Local, s.name.loc, nullptr, s.name.text, {}, {}, model_, s.name.loc};
        return;
      }
      expr(s.value.get());
      if (s.kind == ast::ModelStmt::Repeat) stmts(s.body);
    }
  }

  // The latest binding of `name` in the model before `use`.
  std::optional<Loc> binding(const std::vector<ast::ModelStmt> &body, const std::string &name, uint32_t use) const {
    std::optional<Loc> found;
    for (const ast::ModelStmt &s : body) {
      if (s.loc.begin > use) break;
      if (s.kind == ast::ModelStmt::Repeat) {
        if (auto inner = binding(s.body, name, use)) found = inner;
      } else if (s.name.text == name) {
        found = s.name.loc;
      }
    }
    return found;
  }

  void expr(const ast::Expr *e) {
    if (!e || hit_.kind != Hit::None || !contains(e->loc, file_, at_)) return;
    switch (e->kind) {
    case ast::ExprKind::Name:
      if (model_) {
        if (auto bound = binding(model_->body, e->text, e->loc.begin)) {
          hit_ = {Hit::Local, e->loc, nullptr, e->text, {}, {}, model_, *bound};
          return;
        }
        for (const ast::Param &p : model_->params)
          if (p.name.text == e->text) {
            hit_ = {Hit::Param, e->loc, p_.lookup(file_, model_->name.text), e->text, {}, {}, nullptr, {}};
            return;
          }
      }
      decl({e->text, e->loc});
      return;
    case ast::ExprKind::Call: {
      expr(e->lhs.get());
      const sema::Decl *callee =
          e->lhs && e->lhs->kind == ast::ExprKind::Name ? p_.lookup(file_, e->lhs->text) : nullptr;
      for (const ast::Arg &a : e->args) {
        if (a.name && here(a.name->loc) && callee) {
          hit_ = {Hit::Param, a.name->loc, callee, a.name->text, {}, {}, nullptr, {}};
          return;
        }
        expr(a.value.get());
      }
      return;
    }
    default:
      expr(e->lhs.get());
      expr(e->rhs.get());
      for (const ast::ExprPtr &x : e->elements) expr(x.get());
      for (const ast::RecordEntry &r : e->entries) expr(r.value.get());
    }
  }

  const sema::Program &p_;
  FileId file_;
  uint32_t at_;
  const ast::Model *model_ = nullptr;
  Hit hit_;
};

size_t utf16Units(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) == 0x80) continue;
    n += c >= 0xF0 ? 2 : 1;  // four-byte sequences are surrogate pairs
  }
  return n;
}

// Where a parameter's text ends: after its default, constraint or type.
uint32_t paramEnd(const ast::Param &a) {
  uint32_t end = std::max(a.name.loc.end, a.type.loc.end);
  for (const ast::TypeExpr &t : a.alternatives) end = std::max(end, t.loc.end);
  if (a.constraint) end = std::max(end, a.constraint->loc.end);
  if (a.defaultValue) end = std::max(end, a.defaultValue->loc.end);
  return end;
}

const sema::FieldSpec *findSpec(const std::vector<sema::FieldSpec> &specs, const std::vector<std::string> &path) {
  const std::vector<sema::FieldSpec> *level = &specs;
  const sema::FieldSpec *found = nullptr;
  for (const std::string &part : path) {
    auto it = std::find_if(level->begin(), level->end(), [&](const sema::FieldSpec &s) { return s.name == part; });
    if (it == level->end()) return nullptr;
    found = &*it;
    level = &it->block;
  }
  return found;
}

}  // namespace

Analysis::Analysis(const std::string &path, std::string text, const std::string &stdlibDir) {
  file_ = sources_.add(path, std::move(text));
  diags_.setErrorLimit(200);
  result_ = sema::analyze(sources_, diags_, file_, stdlibDir);
}

uint32_t Analysis::offset(Position at) const {
  std::string_view text = sources_.text(file_);
  size_t begin = 0;
  for (int line = 0; line < at.line; ++line) {
    size_t nl = text.find('\n', begin);
    if (nl == std::string_view::npos) return uint32_t(text.size());
    begin = nl + 1;
  }
  size_t i = begin;
  for (int units = 0; i < text.size() && text[i] != '\n' && units < at.character;) {
    auto c = static_cast<unsigned char>(text[i]);
    size_t len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    units += c >= 0xF0 ? 2 : 1;
    i += len;
  }
  return uint32_t(std::min(i, text.size()));
}

nlohmann::json Analysis::range(Loc loc) const {
  auto position = [&](uint32_t offset) {
    LineCol lc = sources_.position(loc.file, offset);
    std::string_view line = sources_.lineText(loc.file, offset);
    size_t column = std::min<size_t>(lc.column - 1, line.size());
    return nlohmann::json{{"line", lc.line - 1}, {"character", utf16Units(line.substr(0, column))}};
  };
  return {{"start", position(loc.begin)}, {"end", position(std::max(loc.begin, loc.end))}};
}

nlohmann::json Analysis::location(Loc loc) const {
  std::string path = std::filesystem::absolute(sources_.path(loc.file)).lexically_normal().string();
  return {{"uri", uriOf(path)}, {"range", range(loc)}};
}

nlohmann::json Analysis::diagnostics() const {
  nlohmann::json out = nlohmann::json::array();
  for (const Diagnostic &d : diags_.all()) {
    if (d.severity == Severity::Note) continue;
    Loc loc = d.loc.file == file_ ? d.loc : Loc{file_, 0, 0};  // elsewhere: at the top, naming the place
    std::string message = d.message;
    if (d.loc.valid() && d.loc.file != file_) {
      LineCol lc = sources_.position(d.loc.file, d.loc.begin);
      message = sources_.path(d.loc.file) + ":" + std::to_string(lc.line) + ": " + message;
    }
    nlohmann::json related = nlohmann::json::array();
    for (const Note &n : d.notes) {
      if (n.loc.valid()) related.push_back({{"location", location(n.loc)}, {"message", n.message}});
      else message += "\nnote: " + n.message;
    }
    nlohmann::json diag{{"range", range(loc)},
                        {"severity", d.severity == Severity::Error ? 1 : 2},
                        {"code", info(d.id).code},
                        {"source", "mlc"},
                        {"message", message}};
    if (!related.empty()) diag["relatedInformation"] = related;
    out.push_back(diag);
  }
  return out;
}

Hit Analysis::find(uint32_t offset) const {
  if (!result_.program || !result_.program->root || !result_.program->root->ast) return {};
  return Finder(*result_.program, file_, offset).run(*result_.program->root->ast);
}

std::string Analysis::describe(const Hit &hit) const {
  std::string out;
  auto code = [&](const std::string &text) { out += "```mlp\n" + text + "\n```\n"; };
  switch (hit.kind) {
  case Hit::None: return "";
  case Hit::Decl: {
    const sema::Decl &d = *hit.decl;
    std::string_view text = sources_.text(d.file);
    Loc whole = d.ext ? d.ext->loc : d.model ? d.model->loc : d.dataset ? d.dataset->loc : d.experiment ? d.experiment->loc : d.loc;
    std::string signature;
    if (d.ext) {
      signature = std::string(sources_.slice(whole));
    } else if (d.model) {
      uint32_t end = d.model->name.loc.end;
      for (const ast::Param &p : d.model->params) end = std::max(end, paramEnd(p));
      size_t close = text.find(')', end);
      bool hasParams = !d.model->params.empty() || text.substr(d.model->name.loc.end, 1) == "(";
      end = hasParams && close != std::string_view::npos ? uint32_t(close + 1) : d.model->name.loc.end;
      signature = std::string(text.substr(whole.begin, end - whole.begin));
    } else {
      signature = d.kindName() + " " + d.name;
    }
    code(signature);
    std::string doc = docComment(text, whole.begin);
    if (!doc.empty()) out += "\n" + doc;
    if (d.stdlib) out += "\n*" + result_.program->moduleOf(d.file)->name + "*";
    return out;
  }
  case Hit::Param: {
    const sema::Param *p = hit.decl->param(hit.name);
    if (!p || !p->ast) return "";
    const ast::Param &a = *p->ast;
    code(std::string(sources_.text(hit.decl->file).substr(a.name.loc.begin, paramEnd(a) - a.name.loc.begin)));
    out += "\nparameter of " + hit.decl->kindName() + " `" + hit.decl->name + "`";
    return out;
  }
  case Hit::Field: {
    std::vector<sema::FieldSpec> specs;
    if (hit.section == "experiment") {
      sema::Evaluator eval(*result_.program, file_);
      specs = sema::experimentSchema(eval);
    } else {
      specs = sema::datasetSchema(hit.section.substr(hit.section.find(':') + 1));
    }
    const sema::FieldSpec *spec = findSpec(specs, hit.fieldPath);
    if (!spec) return "";
    std::string line = hit.fieldPath.back();
    if (spec->isBlock()) {
      line += " { ... }";
    } else {
      line += ": " + sema::toString(spec->type);
      if (spec->range) line += " " + spec->range->toString();
      if (spec->makeDefault)
        if (auto v = spec->makeDefault()) line += " = " + sema::toString(*v);
    }
    code(line);
    out += "\n" + spec->doc + (spec->required ? " (required)" : "");
    return out;
  }
  case Hit::Local: {
    std::vector<std::string> shapes;
    for (const sema::CheckedExperiment &e : result_.experiments) {
      if (!e.model.model || e.model.model->model != hit.model) continue;
      for (const auto &[loc, tensor] : e.model.namedTensors)
        if (loc.file == hit.definition.file && loc.begin == hit.definition.begin) {
          std::string s = sema::toString(tensor);
          if (std::find(shapes.begin(), shapes.end(), s) == shapes.end()) shapes.push_back(s);
        }
    }
    if (shapes.empty()) {
      code(hit.name);
      out += "\na tensor; its shape is inferred once an experiment trains `" + hit.model->name.text + "`";
      return out;
    }
    std::string all;
    for (const std::string &s : shapes) all += (all.empty() ? "" : " | ") + s;
    code(hit.name + ": " + all);
    if (shapes.size() > 1) out += "\nthe shape differs between passes of its `repeat`";
    return out;
  }
  }
  return out;
}

std::optional<nlohmann::json> Analysis::hover(Position at) const {
  Hit hit = find(offset(at));
  std::string text = describe(hit);
  if (text.empty()) return std::nullopt;
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return nlohmann::json{{"contents", {{"kind", "markdown"}, {"value", text}}}, {"range", range(hit.loc)}};
}

std::optional<nlohmann::json> Analysis::definition(Position at) const {
  Hit hit = find(offset(at));
  switch (hit.kind) {
  case Hit::Decl: return location(hit.decl->loc);
  case Hit::Param:
    if (const sema::Param *p = hit.decl->param(hit.name)) return location(p->loc);
    return std::nullopt;
  case Hit::Local: return location(hit.definition);
  default: return std::nullopt;
  }
}

std::string uriOf(const std::string &path) {
  static const char *hex = "0123456789ABCDEF";
  std::string out = "file://";
  for (unsigned char c : path) {
    if (std::isalnum(c) || std::strchr("/-._~", c)) {
      out += char(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string pathOf(const std::string &uri) {
  std::string s = uri.rfind("file://", 0) == 0 ? uri.substr(7) : uri;
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += char(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string docComment(std::string_view text, uint32_t declBegin) {
  size_t lineStart = text.rfind('\n', declBegin == 0 ? 0 : declBegin - 1);
  lineStart = lineStart == std::string_view::npos ? 0 : lineStart + 1;
  std::vector<std::string> lines;
  while (lineStart > 0) {
    size_t prevStart = text.rfind('\n', lineStart - 2);
    prevStart = prevStart == std::string_view::npos ? 0 : prevStart + 1;
    std::string_view line = text.substr(prevStart, lineStart - 1 - prevStart);
    size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos || line.substr(first, 2) != "//") break;
    std::string body(line.substr(first + 2));
    if (body.rfind(" ----", 0) == 0) break;  // a section ruler
    if (!body.empty() && body[0] == ' ') body.erase(0, 1);
    lines.push_back(body);
    lineStart = prevStart;
  }
  std::string out;
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) out += *it + "\n";
  return out;
}

}  // namespace mlc::lsp
