// Median, ASHA and Hyperband pruning.
//
// ASHA is the asynchronous successive halving of Li et al. (2018): a trial
// that reaches a rung continues while its best value so far is among the
// best 1/reduction of those of the trials that reached that rung so far, and with fewer
// than `reduction` values only the best so far continues. Trials are never
// held back waiting for others, so an early trial with few competitors is
// judged leniently and later ones strictly, as in the paper.
//
// Hyperband runs ASHA in brackets that differ in their first rung; a trial's
// bracket is a fixed function of its number, so every worker agrees on it.
#include "src/tune/Prune.h"

#include "abi/plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace mlcrt::tune {
namespace {

void validate(const PruneSpec &spec) {
  const std::string &k = spec.kind;
  if (k != "none" && k != "median" && k != "asha" && k != "hyperband")
    throw std::invalid_argument(fmt::format("unknown pruner '{}' (expected none, median, asha or hyperband)", k));
  if (k == "asha" || k == "hyperband") {
    if (spec.grace < 1) throw std::invalid_argument(fmt::format("{}: grace must be >= 1 (got {})", k, spec.grace));
    if (spec.reduction < 2) throw std::invalid_argument(fmt::format("{}: reduction must be >= 2 (got {})", k, spec.reduction));
    if (spec.maxBudget < 1) throw std::invalid_argument(fmt::format("{}: the full budget must be >= 1 (got {})", k, spec.maxBudget));
  }
  if (k == "median") {
    if (spec.warmup < 0) throw std::invalid_argument(fmt::format("median: warmup must be >= 0 (got {})", spec.warmup));
    if (spec.minTrials < 0) throw std::invalid_argument(fmt::format("median: min trials must be >= 0 (got {})", spec.minTrials));
  }
}

// grace * reduction^s, or nullopt past `limit` (also where it would overflow).
std::optional<int64_t> rungBudget(const PruneSpec &spec, int s, int64_t limit) {
  int64_t b = spec.grace;
  for (int i = 0; i < s; ++i) {
    if (b > limit / spec.reduction) return std::nullopt;
    b *= spec.reduction;
  }
  if (b > limit) return std::nullopt;
  return b;
}

// Brackets 0 .. count-1; bracket s starts at grace * reduction^s.
int brackets(const PruneSpec &spec) {
  int s = 1;
  while (rungBudget(spec, s, spec.maxBudget)) ++s;
  return s;
}

// Hyperband's share of trials per bracket: the bracket that starts at rung
// s of s_max gets ceil((s_max + 1) / (s_max - s + 1) * reduction^(s_max - s))
// (Li et al. 2018's n_i), so the aggressive brackets, whose trials are cheap,
// get the most.
std::vector<uint64_t> bracketWeights(const PruneSpec &spec) {
  int count = brackets(spec);
  std::vector<uint64_t> w(static_cast<size_t>(count));
  for (int s = 0; s < count; ++s) {
    int halvings = count - 1 - s;
    double n = std::ceil(double(count) / double(halvings + 1) * std::pow(double(spec.reduction), halvings));
    w[size_t(s)] = uint64_t(std::min(n, 1e15));
  }
  return w;
}

// What the trials that `same` accepts and that reached `budget` had
// achieved there (the best value each reported up to it), the asking
// trial's own included once. A trial that never reported a finite value
// counts as NaN, the worst.
template <class Same>
std::vector<double> competitors(const Study &study, const Trial &trial, int64_t budget, double own, Same same) {
  std::vector<double> values{own};
  for (const Trial &t : study.trials) {
    if (t.number == trial.number || !same(t) || !t.intermediate.count(budget)) continue;
    values.push_back(study.bestUpTo(t, budget).value_or(std::numeric_limits<double>::quiet_NaN()));
  }
  return values;
}


// Successive halving at one rung: keep the best floor(n / reduction), at
// least one; ties with the last kept value are kept.
bool promoted(const PruneSpec &spec, const Study &study, double value, std::vector<double> values) {
  size_t keep = std::max<size_t>(1, values.size() / size_t(spec.reduction));
  std::vector<double> keys;
  for (double v : values) keys.push_back(study.rankKey(v));
  std::nth_element(keys.begin(), keys.begin() + long(keep - 1), keys.end());
  return study.rankKey(value) <= keys[keep - 1];
}

bool successiveHalving(const PruneSpec &spec, const Study &study, const Trial &trial, int64_t budget, int bracket,
                       bool hyperband) {
  std::vector<int64_t> rs = rungs(spec, bracket);
  if (std::find(rs.begin(), rs.end(), budget) == rs.end()) return false;
  auto own = trial.intermediate.find(budget);
  if (own == trial.intermediate.end()) return false;
  if (std::isnan(own->second)) return true;  // diverged: it will not recover
  // Trials are compared by what they achieved by the rung, the quantity
  // their objective is (a complete trial's value is its best), not by the
  // one noisy validation that happens to fall on it.
  double achieved = study.bestUpTo(trial, budget).value_or(own->second);
  auto same = [&](const Trial &t) { return !hyperband || bracketOf(spec, t.number) == bracket; };
  return !promoted(spec, study, achieved, competitors(study, trial, budget, achieved, same));
}

double medianOf(std::vector<double> v) {
  size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + long(mid), v.end());
  double upper = v[mid];
  if (v.size() % 2) return upper;
  double lower = *std::max_element(v.begin(), v.begin() + long(mid));
  return (lower + upper) / 2;
}

bool medianPrune(const PruneSpec &spec, const Study &study, const Trial &trial, int64_t budget) {
  if (budget < spec.warmup) return false;
  int64_t finished = 0;
  for (const Trial &t : study.trials)
    if (t.number != trial.number && (t.state == TrialState::Complete || t.state == TrialState::Pruned)) ++finished;
  if (finished < spec.minTrials) return false;

  auto own = trial.intermediate.find(budget);
  if (own == trial.intermediate.end()) return false;
  if (std::isnan(own->second)) return true;
  // The trial's best so far: one bad epoch after good ones is not a reason
  // to stop it.
  std::optional<double> best;
  for (const auto &[b, v] : trial.intermediate)
    if (b <= budget && !std::isnan(v) && (!best || study.better(v, *best))) best = v;

  // The others by what they had achieved at the same budget.
  std::vector<double> others;
  for (const Trial &t : study.trials) {
    if (t.number == trial.number || !t.intermediate.count(budget)) continue;
    if (std::optional<double> v = study.bestUpTo(t, budget)) others.push_back(*v);
  }
  if (others.empty()) return false;
  return study.better(medianOf(std::move(others)), *best);
}

}  // namespace

std::vector<int64_t> rungs(const PruneSpec &spec, int bracket) {
  validate(spec);
  std::vector<int64_t> out;
  if (spec.kind != "asha" && spec.kind != "hyperband") return out;
  if (spec.kind == "asha") bracket = 0;
  if (bracket < 0 || bracket >= brackets(spec)) return out;
  for (int s = bracket;; ++s) {
    std::optional<int64_t> b = rungBudget(spec, s, spec.maxBudget - 1);
    if (!b) break;
    out.push_back(*b);
  }
  return out;
}

int bracketCount(const PruneSpec &spec) {
  validate(spec);
  return spec.kind == "hyperband" ? brackets(spec) : 1;
}

int bracketOf(const PruneSpec &spec, int number) {
  if (bracketCount(spec) == 1) return 0;
  std::vector<uint64_t> w = bracketWeights(spec);
  uint64_t total = 0;
  for (uint64_t x : w) total += x;
  // A fixed hash of the number: the same bracket on every worker and run,
  // and over many trials each bracket's share tends to its weight.
  uint64_t h = mlc_mix64(uint64_t(int64_t(number)) ^ 0x6879706572626e64ULL) % total;
  for (size_t s = 0; s < w.size(); ++s) {
    if (h < w[s]) return int(s);
    h -= w[s];
  }
  return int(w.size()) - 1;
}

bool shouldPrune(const PruneSpec &spec, const Study &study, const Trial &trial, int64_t budget) {
  validate(spec);
  if (spec.kind == "asha") return successiveHalving(spec, study, trial, budget, 0, false);
  if (spec.kind == "hyperband") return successiveHalving(spec, study, trial, budget, bracketOf(spec, trial.number), true);
  if (spec.kind == "median") return medianPrune(spec, study, trial, budget);
  return false;
}

}  // namespace mlcrt::tune
