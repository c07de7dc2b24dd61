#include "sema/Sema.h"

#include "sema/DatasetCheck.h"
#include "sema/ExperimentCheck.h"
#include "sema/LoadModules.h"
#include "sema/ModelCheck.h"
#include "sema/ModelDecls.h"

namespace mlc::sema {

namespace {

// A model whose inputs are concrete and whose parameters all have defaults
// can be checked on its own, before (or without) any experiment using it.
bool standalone(Program &p, Decl &d) {
  resolveSignature(p, d);
  for (const Param &param : d.params)
    if (!param.defaultValue) return false;
  for (const ast::ModelStmt &s : d.model->body)
    if (s.kind == ast::ModelStmt::Input)
      for (const auto &dim : s.type->dims)
        if (!dim || dim->kind != ast::ExprKind::Int) {
          if (dim && dim->kind == ast::ExprKind::Name &&
              (dim->text == "batch" || d.param(dim->text)))
            continue;
          return false;
        }
  return true;
}

}  // namespace

SemaResult analyze(SourceManager &sources, Diagnostics &diags, FileId root, const std::string &stdlibDir) {
  SemaResult result;
  result.program = std::make_unique<Program>(sources, diags, stdlibDir);
  Program &p = *result.program;

  // 1. Parse the root file and its imports; declare every name.
  if (!loadModules(p, root)) return result;
  std::vector<Decl *> own = p.root->decls;

  // 2. Signatures: parameter types, ranges and defaults.
  for (Decl *d : own) resolveSignature(p, *d);

  // 3. Model declarations on their own: types, names, redefinitions.
  for (Decl *d : own)
    if (d->kind == Decl::Model) checkModelDecl(p, *d);

  // 4. Models that can be instantiated on their own (defaults, concrete inputs).
  for (Decl *d : own) {
    if (p.workSpent > kCompileBudget) break;  // an optional check: experiments check every model they use
    if (d->kind != Decl::Model || !standalone(p, *d)) continue;
    Evaluator eval(p, d->file);
    Scope empty;
    if (auto config = eval.callDecl(*d, nullptr, empty, d->loc)) instantiateModel(p, *d, *config, {{}, "", d->loc, {}});
  }

  // 5. Datasets, used or not (experiments reuse these results).
  for (Decl *d : own)
    if (d->kind == Decl::Dataset) checkDataset(p, *d);

  // 6. Experiments: every section, the model on the data, monitors, sweeps.
  for (Decl *d : own)
    if (d->kind == Decl::Experiment)
      if (auto exp = checkExperiment(p, *d)) result.experiments.push_back(std::move(*exp));
  return result;
}

}  // namespace mlc::sema
