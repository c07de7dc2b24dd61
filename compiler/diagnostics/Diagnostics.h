// Collects located diagnostics (errors, warnings, their notes and fix-its)
// and renders them as clang-style text or as JSON for tools.
#pragma once

#include "diagnostics/SourceManager.h"

#include <fmt/core.h>

#include <deque>
#include <iosfwd>
#include <unordered_set>
#include <string>
#include <vector>

namespace mlc {

enum class Severity { Error, Warning, Note };

/// Every diagnostic the compiler can emit; DiagnosticKinds.def lists them with
/// their stable codes and message formats.
enum class Diag {
#define DIAG(ID, CODE, SEVERITY, FORMAT) ID,
#include "diagnostics/DiagnosticKinds.def"
#undef DIAG
};

struct DiagInfo {
  const char *id;
  const char *code;
  Severity severity;
  const char *format;
};
const DiagInfo &info(Diag d);
/// All kinds in declaration order.
std::vector<DiagInfo> allDiagnostics();

struct Note {
  Loc loc;  // may be invalid: a note without a place
  std::string message;
};

struct FixIt {
  Loc loc;  // the range to replace
  std::string replacement;
};

struct Diagnostic {
  Diag id;
  Severity severity;
  Loc loc;
  std::string message;
  std::vector<Note> notes;
  std::vector<FixIt> fixits;

  Diagnostic &note(Loc at, std::string text) { notes.push_back({at, std::move(text)}); return *this; }
  Diagnostic &note(std::string text) { notes.push_back({Loc{}, std::move(text)}); return *this; }
  Diagnostic &fix(Loc at, std::string replacement) { fixits.push_back({at, std::move(replacement)}); return *this; }
};

class Diagnostics {
public:
  explicit Diagnostics(const SourceManager &sources) : sources_(sources) {}

  template <typename... Args>
  Diagnostic &report(Diag id, Loc loc, const Args &...args) {
    const DiagInfo &i = info(id);
    return add({id, i.severity, loc, fmt::format(fmt::runtime(i.format), args...), {}, {}});
  }

  /// Reports `unknown` with a "did you mean" note and fix-it when one of
  /// `candidates` is close enough.
  template <typename... Args>
  Diagnostic &reportUnknown(Diag id, Loc loc, const std::string &unknown,
                            const std::vector<std::string> &candidates, const Args &...args) {
    Diagnostic &d = report(id, loc, args...);
    if (&d != &sink_) suggest(d, unknown, candidates);  // dropped past the limit: no work
    return d;
  }

  /// Adds a note to every diagnostic reported since all().size() was `first`,
  /// except, when `skipSamePlace`, to those already pointing at `at` (where
  /// the note's place would say nothing new).
  void noteSince(size_t first, Loc at, const std::string &text, bool skipSamePlace = false) {
    for (size_t i = first; i < diags_.size(); ++i) {
      const Loc &own = diags_[i].loc;
      if (skipSamePlace && own.file == at.file && own.begin == at.begin && own.end == at.end) continue;
      diags_[i].note(at, text);
    }
  }

  /// Drops every diagnostic reported since all().size() was `first`: for
  /// checks run only to learn whether something would fail.
  void rollback(size_t first);

  const SourceManager &sources() const { return sources_; }
  size_t errorCount() const { return errors_; }
  /// Errors reported so far, counting repeats that were merged into an
  /// earlier identical one: what a pass compares to learn if it failed.
  size_t errorReports() const { return errorReports_; }
  bool hasErrors() const { return errors_ > 0; }
  // A deque: a Diagnostic& returned by report() stays valid while later
  // reports are added (notes are often attached after other checks ran).
  const std::deque<Diagnostic> &all() const { return diags_; }
  Diagnostic &at(size_t i) { return diags_[i]; }
  /// Once this many errors are reported, later ones are dropped (0: no limit).
  void setErrorLimit(size_t n) { errorLimit_ = n; }

  void renderText(std::ostream &out, bool color) const;
  void renderJson(std::ostream &out) const;

private:
  Diagnostic &add(Diagnostic d);
  std::vector<const Diagnostic *> ordered() const;
  void suggest(Diagnostic &d, const std::string &unknown, const std::vector<std::string> &candidates);

  const SourceManager &sources_;
  std::deque<Diagnostic> diags_;
  std::unordered_set<std::string> seen_;  // identity of each reported diagnostic, to merge repeats
  Diagnostic sink_{};  // receives reports past the error limit
  size_t errors_ = 0;
  size_t errorReports_ = 0;
  size_t errorLimit_ = 50;
  bool limitReported_ = false;
};

/// The candidate closest to `name` by edit distance, or "" when none is
/// plausibly a typo of it.
std::string closestMatch(const std::string &name, const std::vector<std::string> &candidates);

}  // namespace mlc
