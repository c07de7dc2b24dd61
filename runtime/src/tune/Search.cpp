// Grid, random and TPE search.
//
// Every random draw comes from mlc_rng_u32 keyed by (seed, trial number or
// block of numbers, purpose and dimension), so a trial's parameters depend
// only on the seed, its number and (tpe) the study's finished trials before
// it: the order in which workers ask, or how many ask, changes nothing.
//
// Numeric dimensions are handled on an "axis", the line the samplers work
// on: [low, high] for Uniform, [log low, log high] for LogUniform, and for
// Int the range widened by half a cell each side (in log space for log
// Ints), every grid value owning the cell of the axis nearest to it. A
// uniform draw on the axis snapped to its cell is the random sampler; TPE
// models observations on the axis and scores an Int by the mass of its cell.
//
// Grid: the points in lexicographic order of the dimensions (the last one
// varies fastest; Ints from low up by step, choices by index). Conditional
// dimensions enumerate only distinct points: where a dimension is inactive
// it is nullopt and multiplies nothing, so gridSize counts each point once.
// A dimension's parent must come before it.
//
// TPE (Bergstra et al. 2011, with Optuna's TPESampler as the reference):
// while fewer than `startup` complete or pruned trials are numbered before
// the asked one, the trial is the random sampler's. Then the finished
// trials before it are ranked (complete by value, pruned by the budget they
// reached and their value there, non-finite values last), the best
// min(ceil(n / 10), 25) are "good", and each dimension (univariate) or the
// always-active dimensions together (multivariate) take, of `candidates`
// draws from the good density l, the one maximising log l - log g.
#include "src/tune/Search.h"

#include "abi/plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace mlcrt::tune {
namespace {

constexpr double kPi = 3.14159265358979323846;

// ---------------------------------------------------------------- validation

bool integral(double v) { return std::isfinite(v) && v == std::floor(v); }

void validateDim(const Space &space, size_t i) {
  const Dim &d = space.dims[i];
  auto bad = [&](const std::string &why) {
    return std::invalid_argument(fmt::format("search dimension '{}': {}", d.path, why));
  };
  if (d.kind == Dim::Choice) {
    if (d.choices.empty()) throw bad("a choice needs at least one value");
  } else {
    if (!std::isfinite(d.low) || !std::isfinite(d.high) || !(d.low < d.high))
      throw bad(fmt::format("needs low < high (got low {} and high {})", d.low, d.high));
    if (d.kind == Dim::LogUniform && d.low <= 0)
      throw bad(fmt::format("a log-uniform range needs low > 0 (got {})", d.low));
    if (d.kind == Dim::Int) {
      if (!(d.step > 0) || !integral(d.step)) throw bad(fmt::format("an int step must be a positive integer (got {})", d.step));
      if (!integral(d.low) || !integral(d.high)) throw bad(fmt::format("int bounds must be integers (got {} and {})", d.low, d.high));
      if (d.log && d.low < 1) throw bad(fmt::format("a log-scale int range needs low >= 1 (got {})", d.low));
    }
  }
  // A parent before its child keeps activity acyclic and lets every sampler
  // decide a dimension's activity from the values already chosen.
  if (d.parent >= 0 && size_t(d.parent) >= i)
    throw bad(fmt::format("its parent (dimension {}) must come before it (it is dimension {})", d.parent, i));
  if (d.parent < -1) throw bad(fmt::format("bad parent index {}", d.parent));
}

void validate(const SearchSpec &spec, const Space &space, int number) {
  if (spec.kind != "grid" && spec.kind != "random" && spec.kind != "tpe")
    throw std::invalid_argument(fmt::format("unknown search '{}' (expected grid, random or tpe)", spec.kind));
  if (spec.kind == "tpe" && spec.candidates < 1)
    throw std::invalid_argument(fmt::format("tpe needs candidates >= 1 (got {})", spec.candidates));
  if (spec.kind == "tpe" && spec.startup < 0)
    throw std::invalid_argument(fmt::format("tpe needs startup >= 0 (got {})", spec.startup));
  if (number < 0) throw std::invalid_argument(fmt::format("trial number {} is negative", number));
  if (space.dims.empty()) throw std::invalid_argument("the search space has no dimensions");
  for (size_t i = 0; i < space.dims.size(); ++i) validateDim(space, i);
}

// ---------------------------------------------------------------- randomness

// What a stream of draws is for; part of the key so that the random
// sampler's draws and TPE's candidates never share numbers.
enum Purpose : uint64_t { RandomDraw = 1, TpeCandidates = 2, LatinBlocks = 3 };

class Rng {
public:
  Rng(uint64_t seed, int64_t stream, Purpose purpose, size_t dim)
      : seed_(seed), stream_(uint64_t(stream)), key_((uint64_t(purpose) << 32) | uint64_t(dim)) {}

  /// Uniform in [0, 1), 53 bits.
  double uniform() {
    uint64_t hi = next() >> 5, lo = next() >> 6;
    return double((hi << 26) | lo) * 0x1p-53;
  }
  double normal() {
    double u1 = 1.0 - uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * kPi * u2);
  }

private:
  uint32_t next() { return mlc_rng_u32(seed_, stream_, key_, counter_++); }
  uint64_t seed_, stream_, key_, counter_ = 0;
};

// ---------------------------------------------------------------- axes

// The grid values of an Int dimension.
double intValue(const Dim &d, int64_t k) { return d.low + double(k) * d.step; }

struct Axis {
  double a = 0, b = 1;  // the sampling interval
};

double axisOf(const Dim &d, double value) {
  return (d.kind == Dim::LogUniform || (d.kind == Dim::Int && d.log)) ? std::log(value) : value;
}

Axis axis(const Dim &d) {
  switch (d.kind) {
  case Dim::Uniform: return {d.low, d.high};
  case Dim::LogUniform: return {std::log(d.low), std::log(d.high)};
  case Dim::Int: {
    int64_t n = d.count();
    double first = axisOf(d, intValue(d, 0)), last = axisOf(d, intValue(d, n - 1));
    if (n == 1) return {first - 0.5, first + 0.5};
    // Half a cell beyond each end, mirroring the neighbouring gap, so the
    // end values own as much of the axis as their neighbours.
    double below = (axisOf(d, intValue(d, 1)) - first) / 2;
    double above = (last - axisOf(d, intValue(d, n - 2))) / 2;
    return {first - below, last + above};
  }
  case Dim::Choice: break;
  }
  return {};
}

// The grid index whose cell holds axis point t (nearest on the axis).
int64_t intIndex(const Dim &d, double t) {
  int64_t n = d.count();
  double v = d.log ? std::exp(t) : t;
  double k = std::floor((v - d.low) / d.step);
  int64_t k0 = int64_t(std::clamp(k, 0.0, double(n - 1)));
  if (k0 + 1 >= n) return k0;
  double d0 = std::abs(t - axisOf(d, intValue(d, k0))), d1 = std::abs(axisOf(d, intValue(d, k0 + 1)) - t);
  return d1 < d0 ? k0 + 1 : k0;
}

// The cell of grid index k on the axis.
Axis intCell(const Dim &d, int64_t k) {
  Axis whole = axis(d);
  int64_t n = d.count();
  double t = axisOf(d, intValue(d, k));
  double lo = k == 0 ? whole.a : (axisOf(d, intValue(d, k - 1)) + t) / 2;
  double hi = k == n - 1 ? whole.b : (t + axisOf(d, intValue(d, k + 1))) / 2;
  return {lo, hi};
}

// The parameter value for axis point t: clamped to the range, Ints snapped
// to their grid.
double valueOf(const Dim &d, double t) {
  switch (d.kind) {
  case Dim::Uniform: return std::clamp(t, d.low, d.high);
  case Dim::LogUniform: return std::clamp(std::exp(t), d.low, d.high);
  case Dim::Int: return intValue(d, intIndex(d, t));
  case Dim::Choice: break;
  }
  return t;
}

// ---------------------------------------------------------------- random

// Random trials come in blocks of kBlock numbers that form a Latin
// hypercube: each dimension's axis is cut into kBlock equal slices and every
// slice gets one trial of the block, the slices dealt in an order shuffled
// per (seed, block, dimension), the position within the slice uniform. Each
// trial is still uniform on its own, and a block covers every dimension
// evenly, which matters most for TPE's first (startup) trials: ten
// independent draws leave 3.5 of the ten slices empty on average.
constexpr int kBlock = 10;

// The slice of trial `number` in dimension `dim`.
int latinSlice(uint64_t seed, int number, size_t dim) {
  int block = number / kBlock, slot = number % kBlock;
  Rng rng(seed, block, LatinBlocks, dim);
  int slices[kBlock];
  for (int i = 0; i < kBlock; ++i) slices[i] = i;
  for (int i = kBlock - 1; i > 0; --i) std::swap(slices[i], slices[int(rng.uniform() * (i + 1))]);
  return slices[slot];
}

double randomValue(const Dim &d, double u) {
  if (d.kind == Dim::Choice) {
    double n = double(d.choices.size());
    return std::min(std::floor(u * n), n - 1);
  }
  Axis ax = axis(d);
  return valueOf(d, ax.a + u * (ax.b - ax.a));
}

// Clears the values of dimensions inactive given the others.
void deactivate(const Space &space, Params &p) {
  for (size_t i = 0; i < p.size(); ++i)
    if (!space.active(p, i)) p[i].reset();
}

Params randomPoint(const SearchSpec &spec, const Space &space, int number) {
  Params p(space.dims.size());
  for (size_t i = 0; i < p.size(); ++i) {
    Rng rng(spec.seed, number, RandomDraw, i);
    double u = (latinSlice(spec.seed, number, i) + rng.uniform()) / kBlock;
    p[i] = randomValue(space.dims[i], std::min(u, std::nextafter(1.0, 0.0)));
  }
  deactivate(space, p);
  return p;
}

// ---------------------------------------------------------------- grid

int64_t mulChecked(int64_t a, int64_t b) {
  if (a != 0 && b > std::numeric_limits<int64_t>::max() / a)
    throw std::invalid_argument("the search grid has more than 2^63 points");
  return a * b;
}

// Distinct points are counted per subtree of the parent forest: a
// dimension's subtree has, for each of its values, the product of the
// subtrees of the children that value activates.
class Grid {
public:
  explicit Grid(const Space &space) : space_(space), subtree_(space.dims.size(), 0) {
    size_t n = space.dims.size();
    for (size_t i = n; i-- > 0;) {
      const Dim &d = space.dims[i];
      int64_t total = 0;
      for (int64_t v = 0; v < d.count(); ++v) {
        int64_t product = 1;
        std::string text = d.text(value(i, v));
        for (size_t c = i + 1; c < n; ++c)
          if (space.dims[c].parent == int(i) && activates(space.dims[c], text)) product = mulChecked(product, subtree_[c]);
        if (product > std::numeric_limits<int64_t>::max() - total)
          throw std::invalid_argument("the search grid has more than 2^63 points");
        total += product;
      }
      subtree_[i] = total;
    }
  }

  int64_t size() const { return completions(-1, Params(space_.dims.size())); }

  Params point(int64_t number) const {
    Params p(space_.dims.size());
    int64_t rest = number;
    for (size_t i = 0; i < p.size(); ++i) {
      if (!space_.active(p, i)) continue;
      for (int64_t v = 0; v < space_.dims[i].count(); ++v) {
        p[i] = value(i, v);
        int64_t c = completions(int(i), p);
        if (rest < c) break;
        rest -= c;
      }
    }
    return p;
  }

private:
  static bool activates(const Dim &child, const std::string &text) {
    return std::find(child.when.begin(), child.when.end(), text) != child.when.end();
  }
  double value(size_t i, int64_t v) const {
    const Dim &d = space_.dims[i];
    return d.kind == Dim::Int ? intValue(d, v) : double(v);
  }
  // How many points complete `p`, whose dimensions up to `last` are set: the
  // product of the subtrees of later dimensions whose activity `p` decides.
  int64_t completions(int last, const Params &p) const {
    int64_t product = 1;
    for (size_t j = size_t(last + 1); j < p.size(); ++j)
      if (space_.dims[j].parent <= last && space_.active(p, j)) product = mulChecked(product, subtree_[j]);
    return product;
  }

  const Space &space_;
  std::vector<int64_t> subtree_;
};

bool finiteSpace(const Space &space) {
  return std::all_of(space.dims.begin(), space.dims.end(), [](const Dim &d) { return d.count() > 0; });
}

Params gridPoint(const Space &space, int number) {
  for (const Dim &d : space.dims)
    if (d.count() == 0)
      throw std::invalid_argument(fmt::format("grid search needs finite dimensions (int or choice); '{}' is continuous", d.path));
  Grid grid(space);
  int64_t size = grid.size();
  if (number >= size)
    throw std::invalid_argument(fmt::format("grid search has {} points; trial {} is past its end", size, number));
  return grid.point(number);
}

// ---------------------------------------------------------------- normal helpers

double normalCdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

// log(Phi(z2) - Phi(z1)) for z1 <= z2, computed on the side of the tails
// where the difference does not cancel.
double logNormalMass(double z1, double z2) {
  double mass;
  if (z1 >= 0)
    mass = 0.5 * (std::erfc(z1 / std::sqrt(2.0)) - std::erfc(z2 / std::sqrt(2.0)));
  else if (z2 <= 0)
    mass = 0.5 * (std::erfc(-z2 / std::sqrt(2.0)) - std::erfc(-z1 / std::sqrt(2.0)));
  else
    mass = 1.0 - normalCdf(z1) - 0.5 * std::erfc(z2 / std::sqrt(2.0));
  return mass > 0 ? std::log(mass) : -std::numeric_limits<double>::infinity();
}

double logSumExp(const std::vector<double> &xs) {
  double m = -std::numeric_limits<double>::infinity();
  for (double x : xs) m = std::max(m, x);
  if (!std::isfinite(m)) return m;
  double s = 0;
  for (double x : xs) s += std::exp(x - m);
  return m + std::log(s);
}

// ---------------------------------------------------------------- Parzen estimators

// How much each observation counts, oldest first: all alike up to 25, then
// the older ones ramp down linearly so that the model follows where the
// search went lately more than where it started.
std::vector<double> observationWeights(size_t n) {
  std::vector<double> w(n, 1.0);
  if (n < 25) return w;
  size_t ramp = n - 25;
  for (size_t i = 0; i < ramp; ++i)
    w[i] = ramp == 1 ? 1.0 / double(n) : 1.0 / double(n) + double(i) * (1.0 - 1.0 / double(n)) / double(ramp - 1);
  return w;
}

constexpr double kPriorWeight = 1.0;

// Per-point kernels weigh w * sigma^kWidthPower rather than w. A textbook
// Parzen estimator (power 0) gives every kernel the same mass, so a cluster
// of observations, which the search produced itself by sampling there
// often, makes a narrow spike; the spikes of bad observations next to the
// good ones then push candidates away from the best region, and the
// narrow good kernels make l erratic. At power 1 every kernel has the same
// height, so observations count by number rather than by density, which is
// what Optuna's TPESampler effectively scores with (its truncated-normal
// log-density leaves out the -log sigma term; it samples with plain
// weights). Sampling and scoring one consistent mixture at power 1.25 (a
// lone observation stands for the empty region around it a little more
// than a clustered one) measured best: a third lower median regret than
// the textbook estimator and 5-10% lower than power 1, over 13 test
// functions (2 to 10 dimensions, 30, 60 and 100 trials, seeds disjoint from
// bench/tpe_bench's). The joint (multivariate) estimator's kernels all
// share one bandwidth per dimension, so it keeps plain weights.
constexpr double kWidthPower = 1.25;

// A mixture of one component per observation plus a prior component, over
// one or more dimensions (a product kernel). Numeric dimensions live on
// their axis; Choice dimensions are indices.
class Parzen {
public:
  /// rows[k][j]: observation k's value of dims[j] (already on the axis for
  /// numeric ones); rows ordered oldest first. `joint`: one bandwidth per
  /// dimension by a Scott-like rule; else per point from its neighbours.
  Parzen(const std::vector<const Dim *> &dims, const std::vector<std::vector<double>> &rows, bool joint)
      : dims_(dims), columns_(dims.size()) {
    size_t n = rows.size();
    std::vector<double> w = observationWeights(n);
    w.push_back(kPriorWeight);
    for (double x : w) logWeights_.push_back(std::log(x));
    for (size_t j = 0; j < dims.size(); ++j) {
      std::vector<double> obs(n);
      for (size_t k = 0; k < n; ++k) obs[k] = rows[k][j];
      if (dims[j]->kind == Dim::Choice) {
        buildChoice(columns_[j], *dims[j], obs);
      } else {
        buildNumeric(columns_[j], *dims[j], obs, joint);
        if (!joint)
          for (size_t k = 0; k <= n; ++k) logWeights_[k] += kWidthPower * std::log(columns_[j].sigma[k]);
      }
    }
    double total = logSumExp(logWeights_);
    for (double &x : logWeights_) x -= total;
  }

  /// One draw: a component, then each dimension from it. Numeric dimensions
  /// come back snapped to their parameter values.
  std::vector<double> draw(Rng &rng) const {
    size_t k = pickComponent(rng.uniform());
    std::vector<double> x(dims_.size());
    for (size_t j = 0; j < dims_.size(); ++j) x[j] = drawDim(j, k, rng);
    return x;
  }

  /// log density (log mass for Ints and choices) at parameter values x.
  double logPdf(const std::vector<double> &x) const {
    std::vector<double> terms(logWeights_);
    for (size_t j = 0; j < dims_.size(); ++j) addDimLogPdf(j, x[j], terms);
    return logSumExp(terms);
  }

private:
  struct Column {
    Axis ax;
    std::vector<double> mu, sigma, logZ;    // numeric, per component
    std::vector<std::vector<double>> prob;  // choice, per component and value
  };

  void buildNumeric(Column &c, const Dim &d, std::vector<double> obs, bool joint) {
    c.ax = axis(d);
    double range = c.ax.b - c.ax.a;
    for (double &t : obs) t = std::clamp(t, c.ax.a, c.ax.b);
    size_t m = obs.size() + 1;  // with the prior
    c.mu = obs;
    c.mu.push_back((c.ax.a + c.ax.b) / 2);
    c.sigma.assign(m, range);
    if (joint) {
      double n = double(std::max<size_t>(obs.size(), 1));
      double scott = 0.2 * std::pow(n, -1.0 / double(dims_.size() + 4)) * range;
      std::fill(c.sigma.begin(), c.sigma.end() - 1, scott);
    } else {
      neighbourBandwidths(c.mu, c.ax, c.sigma);
    }
    // The "magic clip": no kernel narrower than the range over the number of
    // points (at most 100), so that a few close observations do not
    // collapse the density onto a spike; none wider than the range.
    double lo = range / std::min(100.0, 1.0 + double(m));
    for (size_t k = 0; k + 1 < m; ++k) c.sigma[k] = std::clamp(c.sigma[k], lo, range);
    c.sigma[m - 1] = range;
    c.logZ.resize(m);
    for (size_t k = 0; k < m; ++k) c.logZ[k] = logNormalMass((c.ax.a - c.mu[k]) / c.sigma[k], (c.ax.b - c.mu[k]) / c.sigma[k]);
  }

  // Each point's bandwidth is the larger gap to its neighbours (the prior's
  // mean included); the outermost points take the gap on their inner side
  // only, so that an observation near an end is not blurred by the end.
  static void neighbourBandwidths(const std::vector<double> &mu, Axis ax, std::vector<double> &sigma) {
    size_t m = mu.size();
    std::vector<size_t> order(m);
    for (size_t k = 0; k < m; ++k) order[k] = k;
    std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return mu[x] < mu[y]; });
    for (size_t r = 0; r < m; ++r) {
      double left = r == 0 ? mu[order[r]] - ax.a : mu[order[r]] - mu[order[r - 1]];
      double right = r + 1 == m ? ax.b - mu[order[r]] : mu[order[r + 1]] - mu[order[r]];
      double s = std::max(left, right);
      if (m >= 2 && r == 0) s = right;
      if (m >= 2 && r + 1 == m) s = left;
      sigma[order[r]] = s;
    }
  }

  // Each observation puts most of its weight on its own value and spreads a
  // prior share over all values; the prior component is uniform.
  static void buildChoice(Column &c, const Dim &d, const std::vector<double> &obs) {
    size_t values = d.choices.size(), n = obs.size();
    double share = kPriorWeight / double(n + 1);
    for (double o : obs) {
      std::vector<double> p(values, share);
      p[size_t(std::clamp<double>(o, 0, double(values - 1)))] += 1.0;
      double total = 1.0 + share * double(values);
      for (double &x : p) x /= total;
      c.prob.push_back(std::move(p));
    }
    c.prob.emplace_back(values, 1.0 / double(values));
  }

  size_t pickComponent(double u) const {
    double acc = 0;
    for (size_t k = 0; k < logWeights_.size(); ++k) {
      acc += std::exp(logWeights_[k]);
      if (u < acc) return k;
    }
    return logWeights_.size() - 1;
  }

  double drawDim(size_t j, size_t k, Rng &rng) const {
    const Dim &d = *dims_[j];
    const Column &c = columns_[j];
    if (d.kind == Dim::Choice) {
      double u = rng.uniform(), acc = 0;
      for (size_t v = 0; v < c.prob[k].size(); ++v)
        if (u < (acc += c.prob[k][v])) return double(v);
      return double(c.prob[k].size() - 1);
    }
    return valueOf(d, truncatedNormal(c.mu[k], c.sigma[k], c.ax, rng));
  }

  // The kernel's mean lies in [a, b] and its width is at most b - a, so at
  // least a third of its mass is inside: rejection is cheap.
  static double truncatedNormal(double mu, double sigma, Axis ax, Rng &rng) {
    for (int tries = 0; tries < 200; ++tries) {
      double t = mu + sigma * rng.normal();
      if (t >= ax.a && t <= ax.b) return t;
    }
    return std::clamp(mu, ax.a, ax.b);
  }

  void addDimLogPdf(size_t j, double x, std::vector<double> &terms) const {
    const Dim &d = *dims_[j];
    const Column &c = columns_[j];
    if (d.kind == Dim::Choice) {
      size_t v = size_t(std::clamp<double>(x, 0, double(d.choices.size() - 1)));
      for (size_t k = 0; k < terms.size(); ++k) terms[k] += std::log(c.prob[k][v]);
      return;
    }
    if (d.kind == Dim::Int) {
      Axis cell = intCell(d, intIndex(d, axisOf(d, x)));
      for (size_t k = 0; k < terms.size(); ++k)
        terms[k] += logNormalMass((cell.a - c.mu[k]) / c.sigma[k], (cell.b - c.mu[k]) / c.sigma[k]) - c.logZ[k];
      return;
    }
    double t = axisOf(d, x);
    for (size_t k = 0; k < terms.size(); ++k) {
      double z = (t - c.mu[k]) / c.sigma[k];
      terms[k] += -0.5 * z * z - std::log(c.sigma[k]) - 0.5 * std::log(2 * kPi) - c.logZ[k];
    }
  }

  std::vector<const Dim *> dims_;
  std::vector<Column> columns_;
  std::vector<double> logWeights_;  // per component, the prior last
};

// ---------------------------------------------------------------- TPE

// The finished trials before `number`, best first, compared where they can
// be compared fairly. A pruned trial stopped early, and ASHA lets the first
// trials at a rung through for want of competitors, so "complete before
// pruned" (Optuna's order) can make a slow trial that nobody competed with
// the model of a good one. As in BOHB (Falkner et al. 2018), the trials are
// ranked at the largest budget that at least `dims + 3` of them reached: by
// their final value when that many completed, else by the best value each
// had reported by its first validation at or past that budget (a complete
// trial that stopped earlier counts with its final value). The trials that
// did not get that far follow by the budget they reached (more first) and
// their value there; non-finite values rank last.
std::vector<const Trial *> ranked(const Study &study, int number) {
  std::vector<const Trial *> done;
  for (const Trial &t : study.trials)
    if (t.number < number && (t.state == TrialState::Complete || t.state == TrialState::Pruned)) done.push_back(&t);
  auto finalValue = [&](const Trial &t) -> std::optional<double> {
    if (t.state == TrialState::Complete) return t.value;
    if (!t.intermediate.empty()) return study.bestUpTo(t, t.intermediate.rbegin()->first);
    return t.value;
  };
  auto lastBudget = [](const Trial &t) { return t.intermediate.empty() ? int64_t(-1) : t.intermediate.rbegin()->first; };
  // What a trial had achieved at `budget` (its best value up to its first
  // validation there or past it), or nullopt where it stopped before it.
  auto valueAt = [&](const Trial &t, int64_t budget) -> std::optional<double> {
    auto it = t.intermediate.lower_bound(budget);
    if (it != t.intermediate.end())
      return study.bestUpTo(t, it->first).value_or(std::numeric_limits<double>::quiet_NaN());
    if (t.state == TrialState::Complete) return t.value;
    return std::nullopt;
  };

  // A complete trial reached every budget, a pruned one its last report's:
  // the largest budget `enough` trials reached is the last budget of the
  // (enough - complete)-th furthest pruned trial.
  size_t enough = study.space.dims.size() + 3, complete = 0;
  std::vector<int64_t> prunedAt;
  for (const Trial *t : done) {
    if (t->state == TrialState::Complete) ++complete;
    else prunedAt.push_back(lastBudget(*t));
  }
  std::optional<int64_t> common;  // nullopt: compare at completion
  if (complete < enough && prunedAt.size() >= enough - complete) {
    auto kth = prunedAt.begin() + long(enough - complete - 1);
    std::nth_element(prunedAt.begin(), kth, prunedAt.end(), std::greater<>());
    if (*kth >= 0) common = *kth;
  }

  struct Entry {
    const Trial *trial;
    int tier;  // 0: compared at the common budget, 1: stopped before it, 2: no finite value
    double budget, key;
  };
  std::vector<Entry> entries;
  for (const Trial *t : done) {
    std::optional<double> v;
    bool there = common ? (v = valueAt(*t, *common)).has_value() : t->state == TrialState::Complete;
    if (!common && there) v = t->value;
    if (!there) v = finalValue(*t);
    if (!v || !std::isfinite(*v)) {
      entries.push_back({t, 2, 0, 0});
      continue;
    }
    entries.push_back({t, there ? 0 : 1, there ? 0 : double(lastBudget(*t)), study.rankKey(*v)});
  }
  std::stable_sort(entries.begin(), entries.end(), [](const Entry &x, const Entry &y) {
    if (x.tier != y.tier) return x.tier < y.tier;
    if (x.budget != y.budget) return x.budget > y.budget;
    if (x.key != y.key) return x.key < y.key;
    return x.trial->number < y.trial->number;
  });
  std::vector<const Trial *> out;
  for (const Entry &e : entries) out.push_back(e.trial);
  return out;
}

size_t goodCount(size_t n) { return std::min<size_t>((n + 9) / 10, 25); }

// The observations of `dims` (all present) in `trials`, oldest first.
std::vector<std::vector<double>> rowsOf(const Space &space, const std::vector<size_t> &dims, std::vector<const Trial *> trials) {
  std::sort(trials.begin(), trials.end(), [](const Trial *x, const Trial *y) { return x->number < y->number; });
  std::vector<std::vector<double>> rows;
  for (const Trial *t : trials) {
    std::vector<double> row;
    for (size_t j : dims) {
      if (j >= t->params.size() || !t->params[j]) break;
      const Dim &d = space.dims[j];
      double v = d.kind == Dim::Choice ? *t->params[j] : axisOf(d, *t->params[j]);
      if (!std::isfinite(v)) break;
      row.push_back(v);
    }
    if (row.size() == dims.size()) rows.push_back(std::move(row));
  }
  return rows;
}

// The candidate drawn from the good density that the good density favours
// most over the bad one.
std::vector<double> bestCandidate(const Parzen &good, const Parzen &bad, int candidates, Rng &rng) {
  std::vector<double> best;
  double bestScore = -std::numeric_limits<double>::infinity();
  for (int i = 0; i < candidates; ++i) {
    std::vector<double> x = good.draw(rng);
    double score = good.logPdf(x) - bad.logPdf(x);
    if (best.empty() || score > bestScore) {
      best = std::move(x);
      bestScore = score;
    }
  }
  return best;
}

std::vector<double> tpeDraw(const SearchSpec &spec, const Study &study, int number, const std::vector<size_t> &dims,
                            bool joint, const std::vector<const Trial *> &good, const std::vector<const Trial *> &bad) {
  std::vector<const Dim *> ds;
  for (size_t j : dims) ds.push_back(&study.space.dims[j]);
  Parzen l(ds, rowsOf(study.space, dims, good), joint);
  Parzen g(ds, rowsOf(study.space, dims, bad), joint);
  Rng rng(spec.seed, number, TpeCandidates, dims.front());
  return bestCandidate(l, g, spec.candidates, rng);
}

Params tpePoint(const SearchSpec &spec, const Study &study, int number) {
  std::vector<const Trial *> order = ranked(study, number);
  if (order.size() < size_t(spec.startup) || order.empty()) return randomPoint(spec, study.space, number);
  size_t nGood = goodCount(order.size());
  std::vector<const Trial *> good(order.begin(), order.begin() + long(nGood)), bad(order.begin() + long(nGood), order.end());

  const Space &space = study.space;
  Params p(space.dims.size());
  std::vector<bool> done(p.size(), false);
  // Multivariate: the dimensions that are always active form one joint
  // model; conditional ones are modelled one by one below, given those.
  if (spec.multivariate) {
    std::vector<size_t> joint;
    for (size_t i = 0; i < p.size(); ++i)
      if (space.dims[i].parent < 0) joint.push_back(i);
    std::vector<double> x = tpeDraw(spec, study, number, joint, true, good, bad);
    for (size_t k = 0; k < joint.size(); ++k) {
      p[joint[k]] = x[k];
      done[joint[k]] = true;
    }
  }
  for (size_t i = 0; i < p.size(); ++i) {
    if (done[i] || !space.active(p, i)) continue;
    p[i] = tpeDraw(spec, study, number, {i}, false, good, bad).front();
  }
  deactivate(space, p);
  return p;
}

}  // namespace

Params sample(const SearchSpec &spec, const Study &study, int number) {
  validate(spec, study.space, number);
  if (spec.kind == "grid") return gridPoint(study.space, number);
  if (spec.kind == "random") return randomPoint(spec, study.space, number);
  return tpePoint(spec, study, number);
}

int64_t gridSize(const Space &space) {
  if (space.dims.empty()) return 0;
  for (size_t i = 0; i < space.dims.size(); ++i) validateDim(space, i);
  if (!finiteSpace(space)) return 0;
  return Grid(space).size();
}

}  // namespace mlcrt::tune
