#include "sema/LoadModules.h"

#include "parse/Parse.h"

#include <filesystem>

namespace mlc::sema {

namespace {

namespace fs = std::filesystem;

// The std modules every file sees without an import.
const char *const kPreludeModules[] = {"losses", "metrics", "optim", "dist", "tune", "data", "track"};

class Loader {
public:
  explicit Loader(Program &p) : p_(p) {}

  Module *load(FileId file, std::string name, bool stdlib) {
    auto ast = parseFile(p_.sources, file, p_.diags);
    if (!ast) return nullptr;
    auto module = std::make_unique<Module>();
    module->name = std::move(name);
    module->file = file;
    module->ast = std::move(ast);
    Module *m = module.get();
    p_.modules.push_back(std::move(module));
    declare(*m, stdlib);
    m->loading = true;
    for (const ast::Import &imp : m->ast->imports) resolveImport(*m, imp);
    m->loading = false;
    return m;
  }

  void loadPrelude() {
    for (const char *name : kPreludeModules) {
      Module *m = loadStd({"std", name}, Loc{});
      if (!m) {
        Module none;
        std::string path = modulePath(none, {"std", name});
        if (!fs::is_regular_file(path))
          p_.diags.report(Diag::ModuleNotFound, Loc{}, std::string("std.") + name)
              .note(fmt::format("no file at `{}`; is --stdlib right?", path));
        continue;
      }
      for (Decl *d : m->decls) p_.prelude.emplace(d->name, d);
    }
  }

private:
  void declare(Module &m, bool stdlib) {
    auto add = [&](Decl::Kind kind, const ast::Name &name) -> Decl & {
      Decl &d = p_.decls.emplace_back();
      d.kind = kind;
      d.name = name.text;
      d.loc = name.loc;
      d.file = m.file;
      d.stdlib = stdlib;
      auto [it, inserted] = m.visible.emplace(d.name, &d);
      if (!inserted)
        p_.diags.report(Diag::Redefinition, name.loc, name.text).note(it->second->loc, "previous definition is here");
      else
        m.decls.push_back(&d);
      return d;
    };
    for (const ast::Extern &e : m.ast->externs) {
      Decl &d = add(Decl::Extern, e.name);
      d.ext = &e;
      d.externKind = e.kind.text;
    }
    for (const ast::Model &model : m.ast->models) add(Decl::Model, model.name).model = &model;
    for (const ast::Dataset &ds : m.ast->datasets) add(Decl::Dataset, ds.name).dataset = &ds;
    for (const ast::Experiment &ex : m.ast->experiments) add(Decl::Experiment, ex.name).experiment = &ex;
    for (const ast::Name &failed : m.ast->failedDecls) add(Decl::Invalid, failed);
  }

  // `std.a.b` lives at <stdlib>/std/a/b.mlp; any other path is relative to
  // the importing file's directory.
  std::string modulePath(const Module &from, const std::vector<std::string> &parts) const {
    fs::path base = parts[0] == "std" ? fs::path(p_.stdlibDir) : fs::path(p_.sources.path(from.file)).parent_path();
    for (const std::string &part : parts) base /= part;
    // One module, one path: symlinks and `..` must not load it twice.
    std::error_code ec;
    fs::path canonical = fs::weakly_canonical(base.string() + ".mlp", ec);
    return ec ? base.string() + ".mlp" : canonical.string();
  }

  Module *findLoaded(const std::string &path) const {
    for (const auto &m : p_.modules)
      if (p_.sources.path(m->file) == path) return m.get();
    return nullptr;
  }

  Module *loadStd(const std::vector<std::string> &parts, Loc at) {
    Module root;  // std paths do not depend on the importer
    return loadPath(modulePath(root, parts), join(parts), at, true);
  }

  Module *loadPath(const std::string &path, const std::string &name, Loc at, bool stdlib) {
    if (Module *m = findLoaded(path)) {
      if (m->loading) {
        p_.diags.report(Diag::ImportCycle, at, name);
        return nullptr;
      }
      return m;
    }
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) return nullptr;
    std::string error;
    FileId file = p_.sources.load(path, error);
    if (!file) {
      p_.diags.report(Diag::CannotRead, at, path, error);
      return nullptr;
    }
    return load(file, name, stdlib);
  }

  static std::string join(const std::vector<std::string> &parts) {
    std::string out;
    for (const std::string &s : parts) out += (out.empty() ? "" : ".") + s;
    return out;
  }

  void resolveImport(Module &m, const ast::Import &imp) {
    std::vector<std::string> parts;
    for (const ast::Name &n : imp.path) parts.push_back(n.text);
    bool stdlib = parts[0] == "std";
    // `import a.b.name` names one declaration of module a.b, unless a/b/name.mlp exists.
    std::vector<std::pair<std::string, Loc>> names;
    for (const ast::Name &n : imp.names) names.emplace_back(n.text, n.loc);
    std::string path = modulePath(m, parts);
    std::error_code ec;
    Loc pathLoc = Loc::span(imp.path.front().loc, imp.path.back().loc);
    if (!imp.all && names.empty()) {
      if (fs::is_regular_file(path, ec)) {
        p_.diags.report(Diag::ImportWholeModule, pathLoc, join(parts))
            .fix({pathLoc.file, pathLoc.end, pathLoc.end}, ".*");
        return;
      }
      std::vector<std::string> parent(parts.begin(), parts.end() - 1);
      if (parts.size() > 1 && fs::is_regular_file(modulePath(m, parent), ec)) {
        names.emplace_back(parts.back(), imp.path.back().loc);  // `import std.nn.linear`
        parts = parent;
        path = modulePath(m, parts);
        pathLoc = Loc::span(imp.path.front().loc, imp.path[imp.path.size() - 2].loc);
      }
    }
    if (findLoaded(path) && findLoaded(path)->loading) {
      p_.diags.report(Diag::ImportCycle, pathLoc, join(parts));
      return;
    }
    Module *target = loadPath(path, join(parts), pathLoc, stdlib);
    if (!target) {
      if (!fs::is_regular_file(path, ec)) {
        auto &d = p_.diags.report(Diag::ModuleNotFound, pathLoc, join(parts)).note(fmt::format("no file at `{}`", path));
        if (stdlib) {
          std::vector<std::string> known;
          for (const auto &entry : fs::directory_iterator(fs::path(p_.stdlibDir) / "std", ec))
            if (entry.path().extension() == ".mlp") known.push_back("std." + entry.path().stem().string());
          std::string best = closestMatch(join(parts), known);
          if (!best.empty()) d.note(fmt::format("did you mean `{}`?", best));
        }
      }
      return;
    }
    auto bind = [&](const std::string &name, Decl *d, Loc at) {
      auto [it, inserted] = m.visible.emplace(name, d);
      if (!inserted && it->second != d) {
        Module *owner = p_.moduleOf(it->second->file);
        std::string from = !owner || owner == &m ? "this file" : owner->name;
        p_.diags.report(Diag::ImportNameConflict, at, name, from, target->name)
            .note(it->second->loc, fmt::format("`{}` is declared here", name));
      }
    };
    if (imp.all) {
      for (Decl *d : target->decls) bind(d->name, d, imp.loc);
      return;
    }
    for (auto &[name, at] : names) {
      auto it = target->visible.find(name);
      if (it == target->visible.end() || it->second->file != target->file) {
        std::vector<std::string> candidates;
        for (Decl *d : target->decls) candidates.push_back(d->name);
        p_.diags.reportUnknown(Diag::ImportNameNotFound, at, name, candidates, target->name, name);
        continue;
      }
      bind(name, it->second, at);
    }
  }

  Program &p_;
};

}  // namespace

bool loadModules(Program &program, FileId root) {
  Loader loader(program);
  loader.loadPrelude();
  program.root = loader.load(root, program.sources.path(root), false);
  return program.root != nullptr;
}

}  // namespace mlc::sema
