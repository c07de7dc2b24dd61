#include "sema/Templates.h"

namespace mlc::sema {

const std::vector<std::pair<std::string, std::string>> &templateAliases() {
  static const std::vector<std::pair<std::string, std::string>> aliases = {{"lr", "optimizer.lr"},
                                                                           {"batch", "trainer.batch"},
                                                                           {"epochs", "trainer.epochs"},
                                                                           {"seed", "trainer.seed"},
                                                                           {"precision", "trainer.precision"}};
  return aliases;
}

std::vector<std::string> templateFields(const CheckedExperiment &exp) {
  std::vector<std::string> out = {"experiment", "trial", "model.int_params"};
  for (const auto &[alias, key] : templateAliases()) out.push_back(alias);
  for (auto &[section, field] : exp.fields) {
    out.push_back(section);
    for (auto &[n, v] : field.value.fields) out.push_back(section + "." + n);
  }
  for (auto &[n, v] : exp.model.config.fields) out.push_back("model." + n);
  return out;
}

bool checkTemplate(Program &program, const Value &text, const std::vector<std::string> &allowed) {
  if (text.kind != Value::String) return true;  // env(...) and friends are resolved at run time
  // Placeholder offsets are found in the literal as written, so locations
  // stay exact even when the string has escapes.
  // A plain literal is checked as written (exact columns); anything else
  // (`"a{" + "b}"`) is checked as evaluated, reported at the expression.
  std::string_view raw = text.loc.valid() ? program.sources.slice(text.loc) : std::string_view(text.s);
  bool literal = raw.size() >= 2 && raw.front() == '"' && raw.back() == '"' && raw.find('"', 1) == raw.size() - 1;
  if (!literal) raw = text.s;
  auto at = [&](size_t from, size_t to) -> Loc {
    if (!literal) return text.loc;
    return {text.loc.file, text.loc.begin + uint32_t(from), text.loc.begin + uint32_t(to)};
  };
  bool ok = true;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '}' && i + 1 < raw.size() && raw[i + 1] == '}') {
      ++i;
      continue;
    }
    if (raw[i] != '{') continue;
    if (i + 1 < raw.size() && raw[i + 1] == '{') {
      ++i;
      continue;
    }
    size_t close = raw.find('}', i);
    size_t stop = raw.find_first_of("{\"", i + 1);  // another `{` or the closing quote first: unterminated
    if (close == std::string_view::npos || (stop != std::string_view::npos && stop < close)) {
      program.diags.report(Diag::TemplateUnterminated, at(i, i + 1));
      return false;
    }
    std::string name(raw.substr(i + 1, close - i - 1));
    if (name.empty()) {
      program.diags.report(Diag::BadTemplateSyntax, at(i, close + 1));
      ok = false;
    } else if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      program.diags.reportUnknown(Diag::TemplateUnknownField, at(i + 1, close), name, allowed, name);
      ok = false;
    }
    i = close;
  }
  return ok;
}

}  // namespace mlc::sema
