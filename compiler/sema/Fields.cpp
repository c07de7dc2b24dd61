#include "sema/Fields.h"

#include <set>

namespace mlc::sema {

std::function<std::optional<Value>()> constant(Value v) {
  return [v] { return std::optional<Value>(v); };
}

std::function<std::optional<Value>()> callDefault(Evaluator &eval, std::string name) {
  // Defaults are the standard library's declarations, whatever the user's
  // file calls its own things (`experiment single`, `model constant`).
  return [&eval, name]() -> std::optional<Value> {
    auto it = eval.program().prelude.find(name);
    if (it == eval.program().prelude.end()) return std::nullopt;
    const Decl *d = it->second;
    Scope empty;
    return eval.callDecl(*d, nullptr, empty, Loc{});
  };
}

CheckedFields checkFields(Evaluator &eval, const std::vector<ast::Field> &fields, const std::vector<FieldSpec> &specs,
                          const std::string &context, Loc contextLoc, const Scope &scope, bool &ok,
                          bool allowSweep) {
  Diagnostics &diags = eval.program().diags;
  CheckedFields out;
  std::set<std::string> written;  // set in the source, even if wrongly: never "missing"
  std::vector<std::string> names;
  for (const FieldSpec &s : specs) names.push_back(s.name);
  for (const ast::Field &f : fields) {
    if (f.kind == ast::Field::Sweep) {
      written.insert(f.pathText());  // misplaced, but the user did set it
      if (!allowSweep) {
        diags.report(Diag::SweepOutsideSweep, f.loc).note("move it into the experiment's `sweep { ... }` block");
        ok = false;
      }
      continue;
    }
    const std::string name = f.pathText();
    auto spec = std::find_if(specs.begin(), specs.end(), [&](const FieldSpec &s) { return s.name == name; });
    Loc nameLoc = Loc::span(f.path.front().loc, f.path.back().loc);
    if (spec == specs.end()) {
      // `epoch = 40` is meant as `epochs`: don't also call `epochs` missing.
      written.insert(closestMatch(name, names));
      diags.reportUnknown(Diag::UnknownField, nameLoc, name, names, name, context);
      ok = false;
      continue;
    }
    if (!written.insert(name).second) {
      auto prev = out.find(name);
      Diagnostic &d = diags.report(Diag::DuplicateField, nameLoc, name);
      if (prev != out.end()) d.note(prev->second.loc, "first set here");
      ok = false;
      continue;
    }
    if (spec->isBlock() != (f.kind == ast::Field::Block)) {
      diags.report(spec->isBlock() ? Diag::BlockExpected : Diag::ValueExpected, nameLoc, name, name);
      ok = false;
      continue;
    }
    CheckedField cf;
    cf.loc = nameLoc;
    if (spec->isBlock()) {
      bool blockOk = true;
      CheckedFields inner =
          checkFields(eval, f.block, spec->block, "`" + name + "`", nameLoc, scope, blockOk, name == "sweep");
      ok &= blockOk;
      cf.value.kind = Value::Record;
      cf.value.loc = nameLoc;
      for (auto &[n, v] : inner) cf.value.fields.emplace_back(n, v.value);
      // Keep the schema's order, not the map's, so dumps read like the docs.
      std::vector<NamedValue> ordered;
      for (const FieldSpec &s : spec->block)
        for (auto &[n, v] : cf.value.fields)
          if (n == s.name) ordered.emplace_back(n, v);
      cf.value.fields = std::move(ordered);
      out[name] = std::move(cf);
      continue;
    }
    if (spec->deferred) {
      cf.expr = f.value.get();
      cf.value.loc = f.value->loc;
      out[name] = std::move(cf);
      continue;
    }
    std::string what = "field `" + name + "`";
    auto v = eval.eval(*f.value, &spec->type, scope);
    if (!v || !eval.conform(*v, spec->type, what, f.value->loc) ||
        (spec->range && !eval.checkRange(*v, *spec->range, what, f.value->loc))) {
      ok = false;
      continue;
    }
    v->loc = f.value->loc;
    cf.value = std::move(*v);
    out[name] = std::move(cf);
  }
  for (const FieldSpec &s : specs) {
    if (out.count(s.name) || written.count(s.name)) continue;
    if (s.required) {
      diags.report(Diag::MissingField, contextLoc, context, s.name);
      ok = false;
      continue;
    }
    if (s.isBlock()) {
      if (!s.defaultBlock) continue;  // an absent optional block stays absent
      bool blockOk = true;
      CheckedFields inner = checkFields(eval, {}, s.block, "`" + s.name + "`", contextLoc, scope, blockOk);
      CheckedField cf;
      cf.defaulted = true;
      cf.value.kind = Value::Record;
      for (const FieldSpec &b : s.block)
        if (inner.count(b.name)) cf.value.fields.emplace_back(b.name, inner.at(b.name).value);
      out[s.name] = std::move(cf);
      continue;
    }
    if (!s.makeDefault) continue;
    auto v = s.makeDefault();
    if (!v) continue;
    CheckedField cf;
    cf.value = std::move(*v);
    cf.defaulted = true;
    out[s.name] = std::move(cf);
  }
  return out;
}

}  // namespace mlc::sema
