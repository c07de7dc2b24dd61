#include "diagnostics/Diagnostics.h"

#include "diagnostics/Utf8.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <ostream>

namespace mlc {

namespace {

const DiagInfo kInfos[] = {
#define DIAG(ID, CODE, SEVERITY, FORMAT) {#ID, CODE, Severity::SEVERITY, FORMAT},
#include "diagnostics/DiagnosticKinds.def"
#undef DIAG
};

const char *severityName(Severity s) {
  switch (s) {
  case Severity::Error: return "error";
  case Severity::Warning: return "warning";
  case Severity::Note: return "note";
  }
  return "error";
}

// Terminal colours as clang uses them: bold location, red errors, magenta
// warnings, dark notes, green carets.
struct Palette {
  bool on;
  const char *bold() const { return on ? "\033[1m" : ""; }
  const char *reset() const { return on ? "\033[0m" : ""; }
  const char *green() const { return on ? "\033[1;32m" : ""; }
  const char *severity(Severity s) const {
    if (!on) return "";
    switch (s) {
    case Severity::Error: return "\033[1;31m";
    case Severity::Warning: return "\033[1;35m";
    case Severity::Note: return "\033[1;30m";
    }
    return "";
  }
};

// Source lines are shown at most this wide; longer ones (minified or
// generated input, megabyte lines) are cut to a window around the caret.
constexpr size_t kMaxShown = 120;

bool isControl(unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7F; }

// Source shown under a diagnostic: bytes that would garble a terminal
// (control characters, invalid UTF-8) become '?'.
std::string printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8Length(s, i);
    if (n == 0 || (n == 1 && isControl(static_cast<unsigned char>(s[i])))) {
      out.push_back('?');
      ++i;
      continue;
    }
    out.append(s.substr(i, n));
    i += n;
  }
  return out;
}

// Display columns of s[from, to): one per character, not per byte.
size_t columns(std::string_view s, size_t from, size_t to) {
  size_t n = 0;
  for (size_t i = from; i < to && i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) ++n;
  return n;
}

void renderSnippet(std::ostream &out, const SourceManager &sm, Loc loc,
                   const std::vector<FixIt> &fixits, const Palette &p) {
  if (!loc.valid()) return;
  std::string_view line = sm.lineText(loc.file, loc.begin);
  LineCol pos = sm.position(loc.file, loc.begin);
  size_t col = pos.column - 1;  // 0-based byte in line
  // A range running past the line (a whole block) is underlined to its end;
  // an empty range at the end of a line still gets its caret.
  size_t endCol = std::min<size_t>(col + std::max<uint32_t>(loc.end - loc.begin, 1), std::max(line.size(), col + 1));
  size_t first = 0;
  if (line.size() > kMaxShown) {
    first = col > kMaxShown / 2 ? col - kMaxShown / 2 : 0;
    first = std::min(first, line.size() - kMaxShown);
    while (first > 0 && (static_cast<unsigned char>(line[first]) & 0xC0) == 0x80) --first;  // not mid-character
  }
  size_t last = std::min(line.size(), first + kMaxShown);
  while (last < line.size() && (static_cast<unsigned char>(line[last]) & 0xC0) == 0x80) ++last;
  std::string shown = printable(line.substr(first, last - first));
  bool cutLeft = first > 0, cutRight = last < line.size();
  out << (cutLeft ? "..." : "") << shown << (cutRight ? "..." : "") << '\n';

  // The caret line keeps tabs where the source has them so columns line up,
  // and counts characters, not bytes.
  std::string caret(cutLeft ? 3 : 0, ' ');
  for (size_t i = first; i < col && i < last; ++i) {
    if ((static_cast<unsigned char>(line[i]) & 0xC0) == 0x80) continue;
    caret.push_back(line[i] == '\t' ? '\t' : ' ');
  }
  size_t markEnd = std::min(endCol, last + 1);
  std::string marks = "^";
  size_t width = markEnd > col ? columns(line, col, markEnd) + (markEnd > line.size() ? 1 : 0) : 1;
  for (size_t i = 1; i < width; ++i) marks.push_back('~');
  out << p.green() << caret << marks << p.reset() << '\n';
  for (const FixIt &f : fixits) {
    if (!f.loc.valid() || f.loc.file != loc.file || sm.position(f.loc.file, f.loc.begin).line != pos.line) continue;
    size_t fcol = sm.position(f.loc.file, f.loc.begin).column - 1;
    if (fcol < first) continue;
    out << p.green() << std::string(columns(line, first, fcol) + (cutLeft ? 3 : 0), ' ') << printable(f.replacement)
        << p.reset() << '\n';
  }
}

std::string location(const SourceManager &sm, Loc loc) {
  if (!loc.valid()) return "mlc";
  LineCol pos = sm.position(loc.file, loc.begin);
  return fmt::format("{}:{}:{}", sm.path(loc.file), pos.line, pos.column);
}

nlohmann::json jsonRange(const SourceManager &sm, Loc loc) {
  if (!loc.valid()) return nullptr;
  LineCol b = sm.position(loc.file, loc.begin), e = sm.position(loc.file, loc.end);
  return {{"file", sm.path(loc.file)},
          {"start", {{"line", b.line}, {"column", b.column}, {"offset", loc.begin}}},
          {"end", {{"line", e.line}, {"column", e.column}, {"offset", loc.end}}}};
}

// Edit distance where swapping two neighbours (`itn` for `int`) costs one
// edit, like an insertion or a deletion (optimal string alignment). Names
// are short, so the full quadratic table is cheaper than any cleverness.
size_t editDistance(const std::string &a, const std::string &b) {
  std::vector<size_t> prev2(b.size() + 1), prev(b.size() + 1), row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      row[j] = std::min({prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) row[j] = std::min(row[j], prev2[j - 2] + 1);
    }
    std::swap(prev2, prev);
    std::swap(prev, row);
  }
  return prev[b.size()];
}

}  // namespace

const DiagInfo &info(Diag d) { return kInfos[static_cast<size_t>(d)]; }

std::vector<DiagInfo> allDiagnostics() { return {std::begin(kInfos), std::end(kInfos)}; }

std::string closestMatch(const std::string &name, const std::vector<std::string> &candidates) {
  std::string best;
  size_t bestDistance = std::max<size_t>(1, name.size() / 3) + 1;
  for (const std::string &c : candidates) {
    if (c == name) continue;
    size_t lengthGap = c.size() > name.size() ? c.size() - name.size() : name.size() - c.size();
    if (lengthGap >= bestDistance) continue;  // cannot beat the best so far
    size_t d = editDistance(name, c);
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  return best;
}

// Messages quote user text (`unexpected character`); control characters in
// it are written as \xNN so they cannot drive the terminal.
static std::string escapeControls(const std::string &s) {
  std::string out;
  for (unsigned char c : s) {
    if (isControl(c) || c == '\t') out += fmt::format("\\x{:02x}", c);
    else out.push_back(char(c));
  }
  return out;
}

Diagnostic &Diagnostics::add(Diagnostic d) {
  d.message = escapeControls(d.message);
  if (d.severity == Severity::Error) ++errorReports_;
  // The same model or dataset may be checked for several experiments or
  // sweep variants; say each thing once.
  std::string identity = fmt::format("{}:{}:{}:{}", int(d.id), d.loc.file, d.loc.begin, d.message);
  if (!seen_.insert(std::move(identity)).second) {
    sink_ = {};
    return sink_;
  }
  if (d.severity == Severity::Error) {
    if (errorLimit_ && errors_ >= errorLimit_) {
      if (!limitReported_) {
        limitReported_ = true;
        const DiagInfo &i = info(Diag::TooManyErrors);
        diags_.push_back({Diag::TooManyErrors, i.severity, Loc{}, i.format, {}, {}});
      }
      sink_ = {};
      return sink_;
    }
    ++errors_;
  }
  diags_.push_back(std::move(d));
  return diags_.back();
}

void Diagnostics::rollback(size_t first) {
  if (first >= diags_.size()) return;
  for (size_t i = first; i < diags_.size(); ++i)
    seen_.erase(fmt::format("{}:{}:{}:{}", int(diags_[i].id), diags_[i].loc.file, diags_[i].loc.begin, diags_[i].message));
  diags_.erase(diags_.begin() + long(first), diags_.end());
  errors_ = std::count_if(diags_.begin(), diags_.end(),
                          [](const Diagnostic &d) { return d.severity == Severity::Error && d.id != Diag::TooManyErrors; });
  limitReported_ = std::any_of(diags_.begin(), diags_.end(), [](const Diagnostic &d) { return d.id == Diag::TooManyErrors; });
}

void Diagnostics::suggest(Diagnostic &d, const std::string &unknown, const std::vector<std::string> &candidates) {
  std::string best = closestMatch(unknown, candidates);
  if (best.empty()) return;
  d.note(fmt::format("did you mean `{}`?", best));
  if (d.loc.valid()) d.fix(d.loc, best);
}

// Passes report in their own order (declarations first, then models, then
// experiments); people read top to bottom. Diagnostics are shown file by
// file (in order of first appearance) and by position within a file; ones
// without a place come first and the error-limit notice last.
std::vector<const Diagnostic *> Diagnostics::ordered() const {
  std::vector<FileId> files;
  for (const Diagnostic &d : diags_)
    if (d.loc.valid() && std::find(files.begin(), files.end(), d.loc.file) == files.end()) files.push_back(d.loc.file);
  auto key = [&](const Diagnostic *d) {
    if (d->id == Diag::TooManyErrors) return std::pair<size_t, uint32_t>(SIZE_MAX, 0);
    if (!d->loc.valid()) return std::pair<size_t, uint32_t>(0, 0);
    size_t rank = std::find(files.begin(), files.end(), d->loc.file) - files.begin() + 1;
    return std::pair<size_t, uint32_t>(rank, d->loc.begin);
  };
  std::vector<const Diagnostic *> out;
  for (const Diagnostic &d : diags_) out.push_back(&d);
  std::stable_sort(out.begin(), out.end(), [&](const Diagnostic *a, const Diagnostic *b) { return key(a) < key(b); });
  return out;
}

void Diagnostics::renderText(std::ostream &out, bool color) const {
  Palette p{color};
  for (const Diagnostic *dp : ordered()) {
    const Diagnostic &d = *dp;
    out << p.bold() << location(sources_, d.loc) << ": " << p.severity(d.severity) << severityName(d.severity)
        << ": " << p.reset() << p.bold() << d.message << " [" << info(d.id).code << "]" << p.reset() << '\n';
    renderSnippet(out, sources_, d.loc, d.fixits, p);
    for (const Note &n : d.notes) {
      out << p.bold() << (n.loc.valid() ? location(sources_, n.loc) : location(sources_, d.loc)) << ": "
          << p.severity(Severity::Note) << "note: " << p.reset() << n.message << '\n';
      if (n.loc.valid()) renderSnippet(out, sources_, n.loc, {}, p);
    }
  }
  size_t warnings = std::count_if(diags_.begin(), diags_.end(), [](const Diagnostic &d) { return d.severity == Severity::Warning; });
  if (errors_ || warnings) {
    std::string summary;
    if (warnings) summary = fmt::format("{} warning{}", warnings, warnings == 1 ? "" : "s");
    if (warnings && errors_) summary += " and ";
    if (errors_) summary += fmt::format("{} error{}", errors_, errors_ == 1 ? "" : "s");
    out << summary << " generated.\n";
  }
}

void Diagnostics::renderJson(std::ostream &out) const {
  nlohmann::json list = nlohmann::json::array();
  for (const Diagnostic *dp : ordered()) {
    const Diagnostic &d = *dp;
    nlohmann::json notes = nlohmann::json::array(), fixits = nlohmann::json::array();
    for (const Note &n : d.notes) notes.push_back({{"message", n.message}, {"range", jsonRange(sources_, n.loc)}});
    for (const FixIt &f : d.fixits) fixits.push_back({{"range", jsonRange(sources_, f.loc)}, {"replacement", f.replacement}});
    list.push_back({{"code", info(d.id).code},
                    {"severity", severityName(d.severity)},
                    {"message", d.message},
                    {"range", jsonRange(sources_, d.loc)},
                    {"notes", notes},
                    {"fixits", fixits}});
  }
  // Replace invalid UTF-8 (quoted source bytes) rather than throwing.
  out << nlohmann::json{{"diagnostics", list}}.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

}  // namespace mlc
