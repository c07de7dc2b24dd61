#include "lsp/Completion.h"

#include "sema/DatasetCheck.h"
#include "sema/ExperimentSchema.h"

#include <algorithm>
#include <set>

namespace mlc::lsp {

namespace {

// LSP CompletionItemKind values.
enum ItemKind { kFunction = 3, kVariable = 6, kClass = 7, kProperty = 10, kValue = 12, kKeyword = 14, kEnum = 20 };

// An open bracket before the cursor and what it belongs to.
struct Frame {
  char open = 0;
  std::string label;              // `{`: experiment, experiment.trainer, dataset:csv, model, record
  std::string callee;             // `(`: the name called
  std::vector<std::string> stmt;  // tokens of the statement being written in it
};

bool identChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// What the brace that opens after `stmt` in `parent` is.
std::string braceLabel(const Frame &parent, const std::vector<std::string> &stmt) {
  if (!stmt.empty()) {
    const std::string &last = stmt.back();
    if (last == "=" || last == ":" || last == "," || last == "(" || last == "[") return "record";
    if (stmt[0] == "experiment") return "experiment";
    if (stmt[0] == "model" && parent.open == 0) return "model";
    if (stmt[0] == "repeat") return "model";
    if (stmt[0] == "dataset") {
      auto eq = std::find(stmt.begin(), stmt.end(), "=");
      return "dataset:" + (eq != stmt.end() && eq + 1 != stmt.end() ? *(eq + 1) : std::string("csv"));
    }
    if (identChar(last[0]) && parent.label.rfind("experiment", 0) == 0) return parent.label + "." + last;
  }
  return "record";
}

// Reads the text before the cursor: the open brackets, each with the
// statement being written in it, and the name being typed.
std::vector<Frame> scan(std::string_view text, std::string &prefix) {
  std::vector<Frame> frames{Frame{}};
  size_t i = 0;
  auto push = [&](std::string token) { frames.back().stmt.push_back(std::move(token)); };
  while (i < text.size()) {
    char c = text[i];
    if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
      size_t nl = text.find('\n', i);
      i = nl == std::string_view::npos ? text.size() : nl;
    } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '*') {
      size_t end = text.find("*/", i + 2);
      i = end == std::string_view::npos ? text.size() : end + 2;
    } else if (c == '"') {
      size_t j = i + 1;
      while (j < text.size() && text[j] != '"' && text[j] != '\n') j += text[j] == '\\' ? 2 : 1;
      push("\"\"");
      i = std::min(j + 1, text.size());
    } else if (c == '\n') {
      // Fields and statements are written one a line: a newline outside
      // parentheses starts the next one.
      if (frames.back().open == '{' || frames.back().open == 0) frames.back().stmt.clear();
      ++i;
    } else if (identChar(c)) {
      size_t j = i;
      // `val.loss` and `optimizer.lr` are one token; so is `val.` being typed.
      bool number = std::isdigit(static_cast<unsigned char>(c));
      while (j < text.size() &&
             (identChar(text[j]) || (text[j] == '.' && !number && (j + 1 == text.size() || identChar(text[j + 1])))))
        ++j;
      push(std::string(text.substr(i, j - i)));
      i = j;
    } else if (c == '{' || c == '(' || c == '[') {
      Frame f;
      f.open = c;
      if (c == '{') f.label = braceLabel(frames.back(), frames.back().stmt);
      if (c == '(' && !frames.back().stmt.empty()) f.callee = frames.back().stmt.back();
      push(std::string(1, c));
      frames.push_back(std::move(f));
      ++i;
    } else if (c == '}' || c == ')' || c == ']') {
      if (frames.size() > 1) frames.pop_back();
      if (c == '}' && (frames.back().open == '{' || frames.back().open == 0)) frames.back().stmt.clear();
      else push(std::string(1, c));
      ++i;
    } else if (c == ';') {
      frames.back().stmt.clear();
      ++i;
    } else if (c == ',' && frames.back().open != '{') {
      frames.back().stmt.clear();
      ++i;
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else {
      size_t j = i + 1;
      while (j < text.size() && std::strchr("=<>!.~-", text[j]) && std::strchr("=<>!.~-", c)) ++j;
      push(std::string(text.substr(i, j - i)));
      i = j;
    }
  }
  prefix.clear();
  if (!text.empty() && (identChar(text.back()) || text.back() == '.') && !frames.back().stmt.empty()) {
    prefix = frames.back().stmt.back();
    frames.back().stmt.pop_back();
  }
  return frames;
}

class Completer {
public:
  Completer(const Analysis &now, const Analysis *checked) : now_(now), checked_(checked) {}

  nlohmann::json run(Position at) {
    std::string_view text = now_.sources().text(now_.file());
    std::string prefix;
    std::vector<Frame> frames = scan(text.substr(0, now_.offset(at)), prefix);
    const Frame &top = frames.back();
    bool inModel = std::any_of(frames.begin(), frames.end(), [](const Frame &f) { return f.label == "model"; });
    const Frame *block = nullptr;  // the innermost brace
    for (auto it = frames.rbegin(); it != frames.rend(); ++it)
      if (it->open == '{') {
        block = &*it;
        break;
      }

    if (top.open == 0) {
      for (const char *k : {"import", "dataset", "model", "experiment", "extern"}) add(k, kKeyword, "", "");
    } else if (top.open == '(') {
      if (const sema::Decl *d = lookup(top.callee))
        for (const sema::Param &p : d->params) add(p.name, kProperty, sema::toString(p.type), "parameter of `" + d->name + "`");
      if (inModel) layers();
      else valueFor(block);
    } else if (top.open == '[') {
      valueFor(block);
    } else if (top.label == "model") {
      bool afterEquals = std::find(top.stmt.begin(), top.stmt.end(), "=") != top.stmt.end();
      if (!afterEquals && top.stmt.empty())
        for (const char *k : {"input", "output", "repeat"}) add(k, kKeyword, "", "");
      layers();
    } else if (top.stmt.empty()) {
      fieldNames(top.label);
    } else {
      valueFor(&top);
    }
    nlohmann::json out = nlohmann::json::array();
    for (auto &item : items_)
      if (item["label"].get<std::string>().rfind(prefix, 0) == 0) out.push_back(item);
    return out;
  }

private:
  const sema::Decl *lookup(const std::string &name) const {
    if (!now_.result().program) return nullptr;
    return now_.result().program->lookup(now_.file(), name);
  }

  void add(const std::string &label, int kind, const std::string &detail, const std::string &doc) {
    if (!seen_.insert(label).second) return;
    nlohmann::json item{{"label", label}, {"kind", kind}};
    if (!detail.empty()) item["detail"] = detail;
    if (!doc.empty()) item["documentation"] = doc;
    items_.push_back(item);
  }

  void declsOfKind(const std::string &kind) {
    if (!now_.result().program) return;
    for (const sema::Decl *d : now_.result().program->visibleOfKind(now_.file(), kind))
      add(d->name, kind == "model" || kind == "dataset" ? kClass : kFunction, d->kindName(), "");
  }

  void layers() {
    declsOfKind("layer");
    declsOfKind("model");
  }

  std::vector<sema::FieldSpec> specsOf(const std::string &label) const {
    if (label.rfind("dataset:", 0) == 0) return sema::datasetSchema(label.substr(8));
    if (label.rfind("experiment", 0) != 0 || !now_.result().program) return {};
    sema::Evaluator eval(*now_.result().program, now_.file());
    std::vector<sema::FieldSpec> specs = sema::experimentSchema(eval);
    std::string rest = label.substr(std::string("experiment").size());
    while (!rest.empty()) {  // `.trainer`: that block's fields
      rest.erase(0, 1);
      std::string part = rest.substr(0, rest.find('.'));
      rest = rest.find('.') == std::string::npos ? "" : rest.substr(rest.find('.'));
      auto it = std::find_if(specs.begin(), specs.end(), [&](const sema::FieldSpec &s) { return s.name == part; });
      if (it == specs.end() || !it->isBlock()) return {};
      std::vector<sema::FieldSpec> inner = it->block;
      specs = std::move(inner);
    }
    return specs;
  }

  void fieldNames(const std::string &label) {
    for (const sema::FieldSpec &s : specsOf(label))
      add(s.name, kProperty, s.isBlock() ? "block" : sema::toString(s.type), s.doc);
  }

  // Values for the field the statement in `block` assigns (`monitor = `).
  void valueFor(const Frame *block) {
    if (!block || block->stmt.size() < 2 || block->stmt[1] != "=") return;
    std::vector<sema::FieldSpec> specs = specsOf(block->label);
    auto it = std::find_if(specs.begin(), specs.end(), [&](const sema::FieldSpec &s) { return s.name == block->stmt[0]; });
    if (it == specs.end()) return;
    values(it->type);
  }

  void values(const sema::Type &type) {
    switch (type.kind) {
    case sema::Type::Decl: declsOfKind(type.declKind); break;
    case sema::Type::List:
      if (type.element) values(*type.element);
      break;
    case sema::Type::Enum:
      for (const std::string &v : type.enumValues) add(v, kEnum, "", "");
      break;
    case sema::Type::Bool:
      add("true", kValue, "", "");
      add("false", kValue, "", "");
      break;
    case sema::Type::MetricName: metricNames(); break;
    default: break;
    }
  }

  // `<split>.<name>` for every metric the experiment produces, from the
  // latest state of the document that type-checked.
  void metricNames() {
    for (const Analysis *a : {&now_, checked_})
      if (a)
        for (const sema::CheckedExperiment &e : a->result().experiments)
          for (const std::string &m : e.metrics) add(m, kValue, "metric", "");
    if (items_.empty())
      for (const char *split : {"train", "val", "test"}) add(std::string(split) + ".loss", kValue, "metric", "");
  }

  const Analysis &now_;
  const Analysis *checked_;
  std::vector<nlohmann::json> items_;
  std::set<std::string> seen_;
};

}  // namespace

nlohmann::json complete(const Analysis &now, const Analysis *checked, Position at) {
  return Completer(now, checked).run(at);
}

}  // namespace mlc::lsp
