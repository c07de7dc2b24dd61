// The mlp abstract syntax tree: what the parser produces and sema reads.
// Nothing here depends on ANTLR; every node carries its source range.
#pragma once

#include "diagnostics/SourceManager.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mlc::ast {

struct Name {
  std::string text;
  Loc loc;
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

enum class ExprKind {
  Int,        // 42
  Float,      // 1e-3
  String,     // "text" (escapes decoded)
  Bool,       // true
  Name,       // hidden
  Member,     // base.name
  Call,       // callee(args)
  List,       // [a, b]
  Record,     // {key: value}
  Unary,      // -x
  Binary,     // a + b, a .. b, a then b, a on b
  Objective,  // minimize val.loss
};

struct Arg {
  std::optional<Name> name;  // set for `name = value`
  ExprPtr value;
};

struct RecordEntry {
  Name key;
  ExprPtr value;
};

struct Expr {
  ExprKind kind;
  Loc loc;
  int64_t intValue = 0;
  double floatValue = 0;
  bool boolValue = false;
  std::string text;                  // String value, Name, Member field, operator, objective goal
  Loc nameLoc;                       // Member: the field name
  ExprPtr lhs, rhs;                  // Member/Unary/Objective: lhs; Call: lhs is the callee; Binary: both
  std::vector<Arg> args;             // Call
  std::vector<ExprPtr> elements;     // List
  std::vector<RecordEntry> entries;  // Record
};

/// `f32[batch, 64]`, `int`, `list[metric]`, `enum(min, max)`.
struct TypeExpr {
  Loc loc;
  Name name;
  bool shaped = false;              // written with [...]
  std::vector<ExprPtr> dims;        // nullptr stands for `...`
  std::vector<Name> enumValues;     // enum(a, b)
};

/// `in [lo, hi)` or `> bound`.
struct Constraint {
  Loc loc;
  bool interval = false;
  bool loInclusive = true, hiInclusive = true;
  ExprPtr lo, hi;       // interval
  std::string op;       // compare: > >= < <= !=
  ExprPtr bound;        // compare
};

struct Param {
  Name name;
  TypeExpr type;
  std::vector<TypeExpr> alternatives;  // `int | string`: the types after the first
  std::optional<Constraint> constraint;
  ExprPtr defaultValue;
};

struct Annotation {
  Name name;
  std::vector<ExprPtr> args;
};

struct Field {
  enum Kind { Assign, Sweep, Block } kind = Assign;
  Loc loc;
  std::vector<Name> path;  // `optimizer.lr` has two parts; blocks have one
  ExprPtr value;           // Assign, Sweep
  // Sweep: `... when model.depth in 2..4`, a parameter active only for
  // those values of another swept one.
  std::vector<Name> whenPath;
  ExprPtr whenValues;
  std::vector<Field> block;
  Loc blockLoc;            // the braces of a Block

  std::string pathText() const;
};

struct ModelStmt {
  enum Kind { Input, Output, Let, Repeat } kind = Let;
  Loc loc;
  Name name;                          // Input, Output, Let; Repeat: loop variable (may be empty)
  std::optional<TypeExpr> type;       // Input (required), Output (optional)
  ExprPtr value;                      // Output, Let; Repeat: the count
  std::vector<ModelStmt> body;        // Repeat
};

struct Import {
  Loc loc;
  std::vector<Name> path;   // std.nn
  bool all = false;         // .*
  std::vector<Name> names;  // .{a, b}; empty with !all means the last path part may be a name
};

struct Dataset {
  Loc loc;
  Name name;
  ExprPtr source;
  std::vector<Field> fields;
};

struct Model {
  Loc loc;
  Name name;
  std::vector<Param> params;
  std::vector<ModelStmt> body;
};

struct Experiment {
  Loc loc;
  Name name;
  std::vector<Field> fields;
};

struct Extern {
  Loc loc;
  std::vector<Annotation> annotations;
  Name kind;  // layer, loss, metric, optimizer, ...
  Name name;
  std::vector<Param> params;
  std::optional<TypeExpr> result;
};

struct File {
  FileId id = 0;
  std::vector<Import> imports;
  std::vector<Dataset> datasets;
  std::vector<Model> models;
  std::vector<Experiment> experiments;
  std::vector<Extern> externs;
  /// Some declaration had a syntax error and is missing from the tree.
  bool hasErrors = false;
  /// Names those declarations would have defined, so later passes do not
  /// call them unknown.
  std::vector<Name> failedDecls;
  /// Declarations in source order, as (kind, index into the vector above).
  enum class DeclKind { Import, Dataset, Model, Experiment, Extern };
  std::vector<std::pair<DeclKind, size_t>> order;
};

}  // namespace mlc::ast
