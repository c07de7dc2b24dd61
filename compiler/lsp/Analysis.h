// One open document, type-checked as `mlc check` would, and what the
// language server answers from it: diagnostics, hover, definitions.
#pragma once

#include "sema/Sema.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace mlc::lsp {

/// LSP positions: 0-based lines, columns in UTF-16 code units.
struct Position {
  int line = 0;
  int character = 0;
};

/// What a place in the document names.
struct Hit {
  enum Kind { None, Decl, Param, Field, Local } kind = None;
  Loc loc;                             // the name under the cursor
  const sema::Decl *decl = nullptr;    // Decl: it; Param: whose parameter
  std::string name;                    // Param, Local
  std::vector<std::string> fieldPath;  // Field: `trainer`, `epochs`
  std::string section;                 // Field: `experiment` or a dataset's source kind
  const ast::Model *model = nullptr;   // Local: the model whose body binds it
  Loc definition;                      // Local: where it is bound
};

class Analysis {
public:
  Analysis(const std::string &path, std::string text, const std::string &stdlibDir);
  Analysis(const Analysis &) = delete;
  Analysis &operator=(const Analysis &) = delete;

  FileId file() const { return file_; }
  const SourceManager &sources() const { return sources_; }
  const sema::SemaResult &result() const { return result_; }
  bool ok() const { return !diags_.hasErrors(); }

  /// LSP Diagnostic objects for this document; notes become related information.
  nlohmann::json diagnostics() const;
  std::optional<nlohmann::json> hover(Position at) const;
  std::optional<nlohmann::json> definition(Position at) const;

  uint32_t offset(Position at) const;
  nlohmann::json range(Loc loc) const;
  Hit find(uint32_t offset) const;

private:
  nlohmann::json location(Loc loc) const;
  std::string describe(const Hit &hit) const;

  SourceManager sources_;
  Diagnostics diags_{sources_};
  FileId file_ = 0;
  sema::SemaResult result_;
};

/// `file:///abs/path` and back.
std::string uriOf(const std::string &path);
std::string pathOf(const std::string &uri);

/// The `//` lines right above a declaration (or its annotations), without
/// section rulers (`// ---- layers ----`).
std::string docComment(std::string_view text, uint32_t declBegin);

}  // namespace mlc::lsp
