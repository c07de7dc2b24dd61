#include "sweep/TrialGraph.h"

#include <fmt/format.h>

#include <cmath>
#include <set>

namespace mlc::sweep {

std::string Variant::label() const {
  std::string out;
  for (const auto &[path, value] : values) out += fmt::format("{}`{}` = {}", out.empty() ? "" : ", ", path, sema::toString(value));
  return out.empty() ? "the spec's own values" : out;
}

namespace {

// The value a run takes for `path` when no trial sets it.
const sema::Value *ownValue(const sema::CheckedExperiment &exp, const std::string &path) {
  size_t dot = path.find('.');
  std::string section = path.substr(0, dot), param = path.substr(dot + 1);
  if (section == "model") return exp.model.config.arg(param);
  auto it = exp.fields.find(section);
  return it == exp.fields.end() ? nullptr : it->second.value.arg(param);
}

// Override text: what `key=value` on the executable's command line reads.
std::string overrideText(const sema::Value &v) {
  if (v.kind == sema::Value::String || v.kind == sema::Value::Enum) return v.s;
  return sema::toString(v);
}

Dim dimension(const sema::SweepDim &d) {
  Dim out;
  out.path = d.path;
  out.loc = d.loc;
  const std::string &kind = d.space.callee->name;
  if (kind == "choice") {
    out.kind = "choice";
    for (const sema::Value &v : d.values) out.values.push_back(overrideText(v));
  } else if (kind == "randint") {
    out.kind = "int";
    out.low = double(d.space.arg("low")->i);
    out.high = double(d.space.arg("high")->i);
    out.step = double(d.space.arg("step")->i);
    out.log = d.space.arg("log")->b;
  } else {
    out.kind = kind;  // uniform, loguniform
    out.low = d.space.arg("low")->number();
    out.high = d.space.arg("high")->number();
  }
  out.parent = d.parent;
  for (const sema::Value &v : d.when) out.when.push_back(overrideText(v));
  return out;
}

// Budgets grace, grace * reduction, ... below `max` (and `max` itself is
// the end of the run, where every surviving trial is compared anyway).
std::vector<int64_t> ladder(int64_t first, int64_t reduction, int64_t max) {
  std::vector<int64_t> out;
  for (int64_t b = first; b < max; b *= reduction) {
    out.push_back(b);
    if (b > max / reduction) break;
  }
  return out;
}

void pruner(const sema::Value &prune, int64_t epochs, TrialGraph &g) {
  g.prune = prune.callee->name;
  auto intArg = [&](const char *name, int64_t &into) {
    if (const sema::Value *v = prune.arg(name)) into = v->i;
  };
  intArg("grace", g.grace);
  intArg("reduction", g.reduction);
  intArg("max", g.maxBudget);
  intArg("warmup", g.warmup);
  intArg("min_trials", g.minTrials);
  if (const sema::Value *unit = prune.arg("unit")) g.unit = unit->s;
  int64_t max = g.maxBudget ? g.maxBudget : g.unit == "epochs" ? epochs : 0;
  if (max <= 0) return;  // steps of the whole run: known when it runs
  if (g.prune == "asha") {
    g.rungs.push_back({0, ladder(g.grace, g.reduction, max)});
  } else if (g.prune == "hyperband") {
    // Brackets s = 0 .. floor(log_reduction(max / grace)); the last starts
    // at the full budget and prunes nothing, as in Hyperband.
    int brackets = 1;
    for (int64_t b = g.grace; b <= max / g.reduction; b *= g.reduction) ++brackets;
    int64_t first = g.grace;
    for (int s = 0; s < brackets; ++s, first *= g.reduction) g.rungs.push_back({s, ladder(first, g.reduction, max)});
  }
}

class Builder {
public:
  Builder(const sema::CheckedExperiment &exp, Diagnostics &diags) : exp_(exp), diags_(diags) {}

  bool variants(TrialGraph &g, const std::vector<const sema::SweepDim *> &compiled) {
    // Variant 0 is the spec as written: `./exp fit` without a trial runs it.
    Variant own;
    for (const sema::SweepDim *d : compiled)
      if (const sema::Value *v = ownValue(exp_, d->path)) own.values.push_back({d->path, *v});
    g.variants.push_back(own);
    std::set<std::string> seen = {key(own)};
    if (compiled.empty()) return true;
    // Every combination (mixed radix over the compiled dimensions); a
    // conditional one that is inactive keeps the spec's value, so
    // combinations that differ only there are one variant. Past
    // kMaxCombinations, the product itself is what is too many.
    int64_t total = 1;
    bool listed = true;
    for (const sema::SweepDim *d : compiled) {
      if (__builtin_mul_overflow(total, std::max<int64_t>(1, d->count), &total)) total = INT64_MAX;
      listed &= !d->values.empty();
    }
    listed &= total <= kMaxCombinations;
    std::vector<size_t> digit(compiled.size(), 0);
    for (int64_t n = 0; listed && n < total; ++n) {
      Variant v;
      for (size_t i = 0; i < compiled.size(); ++i) {
        const sema::SweepDim &d = *compiled[i];
        const sema::Value *value = &d.values[digit[i]];
        if (d.parent >= 0 && !active(d, compiled, digit)) value = ownValue(exp_, d.path);
        if (value) v.values.push_back({d.path, *value});
      }
      if (seen.insert(key(v)).second) g.variants.push_back(std::move(v));
      for (size_t i = 0; i < digit.size() && ++digit[i] == compiled[i]->values.size(); ++i) digit[i] = 0;
    }
    int64_t needed = listed ? int64_t(g.variants.size()) : total;
    if (needed > int64_t(kMaxVariants)) {
      Diagnostic &diag = diags_.report(Diag::TooManyVariants, exp_.fields.at("sweep").loc, needed, kMaxVariants);
      for (const sema::SweepDim *d : compiled) diag.note(d->loc, fmt::format("`{}` takes {} values", d->path, d->count));
      return false;
    }
    return true;
  }

private:
  static constexpr int64_t kMaxCombinations = int64_t(1) << 16;

  // Whether conditional `d` is active in this combination. Its parent is
  // compiled too (a condition on a runtime parameter keeps `d` in every
  // variant); an inactive parent makes it inactive.
  bool active(const sema::SweepDim &d, const std::vector<const sema::SweepDim *> &compiled,
              const std::vector<size_t> &digit) const {
    const sema::SweepDim &parent = exp_.sweep[size_t(d.parent)];
    for (size_t i = 0; i < compiled.size(); ++i) {
      if (compiled[i] != &parent) continue;
      if (parent.parent >= 0 && !active(parent, compiled, digit)) return false;
      std::string text = sema::toString(parent.values[digit[i]]);
      for (const sema::Value &w : d.when)
        if (sema::toString(w) == text) return true;
      return false;
    }
    return true;
  }

  static std::string key(const Variant &v) {
    std::string k;
    for (const auto &[path, value] : v.values) k += path + "=" + sema::toString(value) + ";";
    return k;
  }

  const sema::CheckedExperiment &exp_;
  Diagnostics &diags_;
};

}  // namespace

std::optional<TrialGraph> buildTrialGraph(const sema::CheckedExperiment &exp,
                                          const std::function<bool(const std::string &)> &runtimeKey,
                                          Diagnostics &diags) {
  auto field = exp.fields.find("sweep");
  if (field == exp.fields.end()) return std::nullopt;
  const sema::Value &sweep = field->second.value;
  TrialGraph g;
  g.study = sweep.arg("study")->s;
  const sema::Value &objective = *sweep.arg("objective");
  g.objective = objective.arg("metric") ? objective.arg("metric")->s : objective.s;
  g.minimize = !(objective.arg("goal") && objective.arg("goal")->s == "maximize");
  const sema::Value &search = *sweep.arg("search");
  g.search = search.callee->name;
  if (const sema::Value *v = search.arg("seed")) g.seed = v->i;
  if (const sema::Value *v = search.arg("startup")) g.startup = v->i;
  if (const sema::Value *v = search.arg("candidates")) g.candidates = v->i;
  if (const sema::Value *v = search.arg("multivariate")) g.multivariate = v->b;
  pruner(*sweep.arg("prune"), exp.fields.at("trainer").value.arg("epochs")->i, g);
  g.trials = sweep.arg("trials")->i;
  g.parallel = sweep.arg("parallel")->i;
  g.retries = sweep.arg("retries")->i;
  const sema::Value &storage = *sweep.arg("storage");
  g.storage = storage.callee->name;
  if (g.storage == "sqlite") {
    g.storagePath = storage.arg("path")->s;
  } else {
    const sema::Value &url = *storage.arg("url");
    if (url.kind == sema::Value::Call && url.callee && url.callee->name == "env" && !url.fields.empty())
      g.storageUrlEnv = url.fields[0].second.s;
    else
      g.storageUrl = url.s;
  }
  g.refit = sweep.arg("refit")->b;
  g.ensemble = sweep.arg("ensemble")->i;

  bool ok = true;
  std::vector<const sema::SweepDim *> compiled;
  for (const sema::SweepDim &d : exp.sweep) {
    Dim dim = dimension(d);
    dim.compiled = d.structural || !runtimeKey(d.path);
    if (dim.compiled && !d.finite()) {
      diags.report(Diag::CompiledKeyContinuous, d.space.loc, d.path)
          .note("use `choice(...)`; each value is compiled as its own variant");
      ok = false;
    }
    if (dim.compiled) compiled.push_back(&d);
    g.dims.push_back(std::move(dim));
  }
  if (!ok || !Builder(exp, diags).variants(g, compiled)) return std::nullopt;
  return g;
}

}  // namespace mlc::sweep
