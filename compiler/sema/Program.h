// The checked program: every module that was loaded, the declarations they
// define, and what each file can see. Sema's passes fill it in order.
#pragma once

#include "diagnostics/Diagnostics.h"
#include "parse/Ast.h"
#include "sema/Value.h"

#include <deque>
#include <map>
#include <set>
#include <memory>

namespace mlc::sema {

struct Param {
  std::string name;
  Loc loc;
  Type type;
  const ast::TypeExpr *pattern = nullptr;  // tensor parameters: the shape as written
  std::optional<Interval> range;
  std::optional<Value> defaultValue;
  const ast::Param *ast = nullptr;
};

struct Decl {
  // Invalid: a declaration that failed to parse; uses of it stay quiet.
  enum Kind { Extern, Model, Dataset, Experiment, Invalid } kind = Extern;
  std::string name;
  Loc loc;       // the name
  FileId file = 0;
  bool stdlib = false;
  std::string externKind;  // layer, loss, metric, optimizer, ...
  std::string goal;        // @goal(max|min)
  std::string task;        // @task(classification|regression|binary)
  bool variadic = false;   // @variadic: positional arguments gather into the first parameter
  std::vector<std::pair<std::string, std::string>> divides;  // @divides(a, b): a must divide b
  std::vector<Param> params;
  bool signatureResolved = false;
  bool broken = false;     // its signature has errors (reported there): uses of it stay quiet
  const ast::Extern *ext = nullptr;
  const ast::Model *model = nullptr;
  const ast::Dataset *dataset = nullptr;
  const ast::Experiment *experiment = nullptr;

  /// `optimizer`, `model`, `dataset`, ... and the same with an article.
  std::string kindName() const;
  std::string kindWithArticle() const;
  const Param *param(const std::string &n) const;
};

struct DatasetInfo;

struct Module {
  std::string name;  // std.nn, or the path for the root file
  FileId file = 0;
  std::unique_ptr<ast::File> ast;
  std::vector<Decl *> decls;
  std::map<std::string, Decl *> visible;  // own declarations and imports
  bool loading = false;                   // for import cycle detection
};

class Program {
public:
  Program(SourceManager &sources, Diagnostics &diags, std::string stdlibDir)
      : sources(sources), diags(diags), stdlibDir(std::move(stdlibDir)) {}

  SourceManager &sources;
  Diagnostics &diags;
  std::string stdlibDir;
  std::deque<Decl> decls;
  std::vector<std::unique_ptr<Module>> modules;
  Module *root = nullptr;
  /// Declarations every file sees without importing: all std modules but
  /// std.nn (whose layer names users often want for themselves).
  std::map<std::string, Decl *> prelude;
  /// Models whose declarations have errors (checkModelDecl); instantiating
  /// them again would only repeat those errors in other words.
  std::set<const Decl *> brokenModels;
  /// Model statements and operations expanded so far, across every
  /// instantiation: optional checks (models on their own, sweep variants)
  /// stop once it passes kCompileBudget, so compile time stays bounded.
  size_t workSpent = 0;
  /// Each dataset is checked (and its files read) once, however many
  /// experiments use it; null records a dataset with errors.
  std::map<const Decl *, std::shared_ptr<const DatasetInfo>> checkedDatasets;

  /// Name lookup as seen from `file`: its own names, then imports, then the prelude.
  const Decl *lookup(FileId file, const std::string &name) const;
  /// Every name visible from `file` (for "did you mean"), computed once per
  /// file: names do not change after loading, and a file with thousands of
  /// unknown names asks thousands of times.
  const std::vector<std::string> &visibleNames(FileId file) const;
  /// Every visible declaration of one kind (for "did you mean" and notes).
  std::vector<const Decl *> visibleOfKind(FileId file, const std::string &kind) const;
  Module *moduleOf(FileId file) const;

private:
  mutable std::map<FileId, std::vector<std::string>> visibleNames_;
};

}  // namespace mlc::sema
