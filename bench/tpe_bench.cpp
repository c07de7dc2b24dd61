// mlc's TPE (or random search) on standard test functions, for comparison
// with Optuna's TPESampler (bench/optuna_tpe.py, same functions and budget).
// scripts/bench tpe builds and runs it; from the repository root:
//   g++ -std=c++17 -O2 -Iruntime bench/tpe_bench.cpp runtime/src/tune/Study.cpp
//       runtime/src/tune/Search.cpp -lfmt -o build/bench/tpe_bench
//
// Usage: tpe_bench [--seeds N] [--trials N] [--sampler tpe|random]
// Prints `<function> <seed> <regret>` per function and seed: the best value
// of a sequential study of N trials minus the function's known minimum (for
// the noisy function: the noiseless value at the best-by-observation trial's
// parameters minus the true minimum).
#include "abi/plan.h"
#include "src/tune/Search.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

namespace {

using mlcrt::tune::Dim;
using mlcrt::tune::Params;
using Point = std::vector<double>;

constexpr double kPi = 3.14159265358979323846;

double branin(const Point &x) {
  double b = 5.1 / (4 * kPi * kPi), c = 5 / kPi, t = 1 / (8 * kPi);
  double u = x[1] - b * x[0] * x[0] + c * x[0] - 6;
  return u * u + 10 * (1 - t) * std::cos(x[0]) + 10;
}

double hartmann6(const Point &x) {
  static const double alpha[4] = {1.0, 1.2, 3.0, 3.2};
  static const double A[4][6] = {{10, 3, 17, 3.5, 1.7, 8},
                                 {0.05, 10, 17, 0.1, 8, 14},
                                 {3, 3.5, 1.7, 10, 17, 8},
                                 {17, 8, 0.05, 10, 0.1, 14}};
  static const double P[4][6] = {{0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886},
                                 {0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991},
                                 {0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650},
                                 {0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381}};
  double sum = 0;
  for (int i = 0; i < 4; ++i) {
    double e = 0;
    for (int j = 0; j < 6; ++j) e += A[i][j] * (x[j] - P[i][j]) * (x[j] - P[i][j]);
    sum += alpha[i] * std::exp(-e);
  }
  return -sum;
}

// A 4-D sphere whose minimum (0) is off-centre; observed with N(0, 1) noise.
const double kShift[4] = {1.5, -2.0, 0.5, 3.0};
double sphere(const Point &x) {
  double s = 0;
  for (int i = 0; i < 4; ++i) s += (x[i] - kShift[i]) * (x[i] - kShift[i]);
  return s;
}

struct Problem {
  std::string name;
  std::vector<std::pair<double, double>> bounds;
  std::function<double(const Point &)> f;
  double minimum;
  double noise;  // standard deviation of the observation noise
};

std::vector<Problem> problems() {
  return {
      {"branin", {{-5, 10}, {0, 15}}, branin, 0.397887, 0},
      {"hartmann6", std::vector<std::pair<double, double>>(6, {0.0, 1.0}), hartmann6, -3.32237, 0},
      {"noisy_sphere4", std::vector<std::pair<double, double>>(4, {-5.0, 5.0}), sphere, 0, 1.0},
  };
}

double gaussian(uint64_t seed, int trial) {
  auto u = [&](uint64_t k) { return (double(mlc_rng_u32(seed ^ 0x6e6f697365ULL, uint64_t(trial), 7, k)) + 0.5) * 0x1p-32; };
  return std::sqrt(-2 * std::log(u(0))) * std::cos(2 * kPi * u(1));
}

double regret(const Problem &pb, const std::string &sampler, uint64_t seed, int trials) {
  mlcrt::tune::Study study;
  study.minimize = true;
  for (size_t i = 0; i < pb.bounds.size(); ++i) {
    Dim d;
    d.path = fmt::format("x{}", i);
    d.low = pb.bounds[i].first;
    d.high = pb.bounds[i].second;
    study.space.dims.push_back(d);
  }
  mlcrt::tune::SearchSpec spec;
  spec.kind = sampler;
  spec.seed = seed;
  double bestObserved = INFINITY, bestTrue = INFINITY;
  for (int n = 0; n < trials; ++n) {
    Params p = mlcrt::tune::sample(spec, study, n);
    Point x;
    for (auto &v : p) x.push_back(*v);
    double truth = pb.f(x);
    double observed = truth + (pb.noise > 0 ? pb.noise * gaussian(seed, n) : 0);
    if (observed < bestObserved) {
      bestObserved = observed;
      bestTrue = truth;
    }
    mlcrt::tune::Trial t;
    t.number = n;
    t.state = mlcrt::tune::TrialState::Complete;
    t.params = p;
    t.value = observed;
    study.trials.push_back(t);
  }
  return bestTrue - pb.minimum;
}

[[noreturn]] void usage() {
  fmt::print(stderr, "usage: tpe_bench [--seeds N] [--trials N] [--sampler tpe|random]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char **argv) {
  int seeds = 25, trials = 60;
  std::string sampler = "tpe";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) usage();
    if (a == "--seeds") seeds = std::atoi(argv[++i]);
    else if (a == "--trials") trials = std::atoi(argv[++i]);
    else if (a == "--sampler") sampler = argv[++i];
    else usage();
  }
  if (seeds < 1 || trials < 1 || (sampler != "tpe" && sampler != "random")) usage();
  for (const Problem &pb : problems())
    for (int s = 0; s < seeds; ++s) fmt::print("{} {} {:.6g}\n", pb.name, s, regret(pb, sampler, uint64_t(s), trials));
}
