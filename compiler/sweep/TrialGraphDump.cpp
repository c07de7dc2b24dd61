#include "sweep/TrialGraphDump.h"

#include <fmt/format.h>

namespace mlc::sweep {

namespace {

std::string number(double v) { return fmt::format("{}", v); }

std::string space(const Dim &d) {
  if (d.kind == "choice") {
    std::string list;
    for (const std::string &v : d.values) list += (list.empty() ? "" : ", ") + v;
    return "choice(" + list + ")";
  }
  if (d.kind == "int") {
    std::string extra = d.step != 1 ? ", step = " + number(d.step) : "";
    if (d.log) extra += ", log";
    return fmt::format("int({}..{}{})", number(d.low), number(d.high), extra);
  }
  return fmt::format("{}({}, {})", d.kind, number(d.low), number(d.high));
}

std::string join(const std::vector<int64_t> &v) {
  std::string out;
  for (int64_t x : v) out += (out.empty() ? "" : ", ") + std::to_string(x);
  return out.empty() ? "none below the full budget" : out;
}

std::string bytes(int64_t b) {
  if (b < 1024) return fmt::format("{} B", b);
  if (b < (int64_t(1) << 20)) return fmt::format("{:.1f} KiB", double(b) / 1024);
  if (b < (int64_t(1) << 30)) return fmt::format("{:.1f} MiB", double(b) / double(1 << 20));
  return fmt::format("{:.2f} GiB", double(b) / double(1 << 30));
}

}  // namespace

std::string dumpTrialGraph(const TrialGraph &g, const std::vector<int64_t> &memory) {
  std::string out = fmt::format("trial graph\n  study: \"{}\" in ", g.study);
  if (g.storage == "sqlite") out += g.storagePath.empty() ? "sqlite(<root>/tune/<study>.db)\n" : "sqlite(\"" + g.storagePath + "\")\n";
  else out += g.storageUrlEnv.empty() ? "postgres(\"" + g.storageUrl + "\")\n" : "postgres(env(\"" + g.storageUrlEnv + "\"))\n";
  out += fmt::format("  objective: {} {}\n", g.minimize ? "minimize" : "maximize", g.objective);
  size_t compiled = 0;
  for (const Dim &d : g.dims) compiled += d.compiled;
  out += fmt::format("  space: {} dimensions, {} compiled\n", g.dims.size(), compiled);
  for (const Dim &d : g.dims) {
    out += "    " + d.path + " ~ " + space(d);
    if (d.parent >= 0) {
      std::string when;
      for (const std::string &w : d.when) when += (when.empty() ? "" : ", ") + w;
      out += " when " + g.dims[size_t(d.parent)].path + " in [" + when + "]";
    }
    out += d.compiled ? ": compiled\n" : ": runtime\n";
  }
  out += "  search: " + g.search;
  if (g.search == "random") out += fmt::format("(seed = {})", g.seed);
  if (g.search == "tpe")
    out += fmt::format("(seed = {}, startup = {}, candidates = {}, multivariate = {})", g.seed, g.startup, g.candidates,
                       g.multivariate);
  out += "\n  prune: " + g.prune;
  std::string max = g.maxBudget ? fmt::format("{} {}", g.maxBudget, g.unit) : "the whole run";
  if (g.prune == "median")
    out += fmt::format("(warmup = {} {}, min_trials = {})", g.warmup, g.unit, g.minTrials);
  if (g.prune == "asha" || g.prune == "hyperband")
    out += fmt::format("(grace = {}, reduction = {}, max = {})", g.grace, g.reduction, max);
  out += '\n';
  for (const Rung &r : g.rungs) {
    if (g.prune == "hyperband") out += fmt::format("    bracket {}: rungs at {} {}\n", r.bracket, join(r.budgets), g.unit);
    else out += fmt::format("    rungs at {} {}\n", join(r.budgets), g.unit);
  }
  if (g.rungs.empty() && (g.prune == "asha" || g.prune == "hyperband"))
    out += fmt::format("    rungs at {} x {}^k {}, below the run's length\n", g.grace, g.reduction, g.unit);
  out += fmt::format("  run: {} trials, {} at a time, {} {} of a failed trial\n", g.trials, g.parallel, g.retries,
                     g.retries == 1 ? "retry" : "retries");
  out += "  then: ";
  out += g.refit ? "refit the best configuration, test it" : "test the best trial's checkpoint";
  if (g.ensemble > 0) out += fmt::format("; test the ensemble of the best {} trials", g.ensemble);
  out += fmt::format("\n  variants: {}\n", g.variants.size());
  for (size_t i = 0; i < g.variants.size(); ++i) {
    out += fmt::format("    #{} {}", i, g.variants[i].label());
    if (i < memory.size()) out += fmt::format(" ({} per rank)", bytes(memory[i]));
    out += '\n';
  }
  return out;
}

}  // namespace mlc::sweep
