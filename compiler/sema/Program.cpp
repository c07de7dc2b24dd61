#include "sema/Program.h"

#include <set>

namespace mlc::sema {

std::string Decl::kindName() const {
  switch (kind) {
  case Extern: return externKind;
  case Model: return "model";
  case Dataset: return "dataset";
  case Experiment: return "experiment";
  case Invalid: return "declaration";
  }
  return "declaration";
}

std::string Decl::kindWithArticle() const { return withArticle(kindName()); }

const Param *Decl::param(const std::string &n) const {
  for (const Param &p : params)
    if (p.name == n) return &p;
  return nullptr;
}

Module *Program::moduleOf(FileId file) const {
  for (const auto &m : modules)
    if (m->file == file) return m.get();
  return nullptr;
}

const Decl *Program::lookup(FileId file, const std::string &name) const {
  if (Module *m = moduleOf(file)) {
    auto it = m->visible.find(name);
    if (it != m->visible.end()) return it->second;
  }
  auto it = prelude.find(name);
  return it == prelude.end() ? nullptr : it->second;
}

const std::vector<std::string> &Program::visibleNames(FileId file) const {
  auto cached = visibleNames_.find(file);
  if (cached != visibleNames_.end()) return cached->second;
  std::set<std::string> names;
  if (Module *m = moduleOf(file))
    for (auto &[n, d] : m->visible) names.insert(n);
  for (auto &[n, d] : prelude) names.insert(n);
  return visibleNames_[file] = std::vector<std::string>(names.begin(), names.end());
}

std::vector<const Decl *> Program::visibleOfKind(FileId file, const std::string &kind) const {
  std::vector<const Decl *> out;
  std::set<std::string> seen;
  auto consider = [&](const std::string &n, const Decl *d) {
    if (d->kindName() == kind && seen.insert(n).second) out.push_back(d);
  };
  if (Module *m = moduleOf(file))
    for (auto &[n, d] : m->visible) consider(n, d);
  for (auto &[n, d] : prelude) consider(n, d);
  return out;
}

}  // namespace mlc::sema
