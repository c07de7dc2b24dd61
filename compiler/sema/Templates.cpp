#include "sema/Templates.h"

namespace mlc::sema {

std::vector<std::string> templateFields(const CheckedExperiment &exp) {
  std::vector<std::string> out = {"experiment", "trial", "lr", "batch", "epochs", "seed", "precision", "model.int_params"};
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
  std::string_view raw = text.loc.valid() ? program.sources.slice(text.loc) : std::string_view(text.s);
  uint32_t base = text.loc.begin;
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
    size_t quote = raw.find('"', i + 1);
    if (close == std::string_view::npos || (quote != std::string_view::npos && quote < close)) {
      program.diags.report(Diag::TemplateUnterminated, {text.loc.file, base + uint32_t(i), base + uint32_t(i + 1)});
      return false;
    }
    std::string name(raw.substr(i + 1, close - i - 1));
    Loc at{text.loc.file, base + uint32_t(i + 1), base + uint32_t(close)};
    if (name.empty()) {
      program.diags.report(Diag::BadTemplateSyntax, {text.loc.file, base + uint32_t(i), base + uint32_t(close + 1)});
      ok = false;
    } else if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      program.diags.reportUnknown(Diag::TemplateUnknownField, at, name, allowed, name);
      ok = false;
    }
    i = close;
  }
  return ok;
}

}  // namespace mlc::sema
