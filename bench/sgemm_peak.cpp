// The machine's single-precision GEMM peak as scripts/bench measures it:
// oneDNN's dnnl_sgemm (row-major C = A·B) at 1024³ and 2048³; each run
// repeats the product until at least 0.5 s have passed; best of 5 runs.
// Threads follow OMP_NUM_THREADS (oneDNN's OpenMP runtime).
//
// Build: c++ -O2 bench/sgemm_peak.cpp -ldnnl -o build/bench/sgemm_peak
// Prints one line per size, then `peak_gflops=<best>`.
#include <dnnl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

bool gemm(dnnl_dim_t n, const float *a, const float *b, float *c) {
  dnnl_status_t st = dnnl_sgemm('N', 'N', n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
  if (st != dnnl_success) {
    std::fprintf(stderr, "sgemm_peak: dnnl_sgemm failed with status %d\n", int(st));
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char **argv) {
  double minSeconds = argc > 1 ? std::atof(argv[1]) : 0.5;
  const int runs = 5;
  double peak = 0;
  for (dnnl_dim_t n : {dnnl_dim_t(1024), dnnl_dim_t(2048)}) {
    std::vector<float> a(size_t(n * n)), b(size_t(n * n)), c(size_t(n * n));
    unsigned s = 12345;
    for (float &x : a) x = float((s = s * 1103515245u + 12345u) >> 9) / float(1u << 23) - 0.5f;
    for (float &x : b) x = float((s = s * 1103515245u + 12345u) >> 9) / float(1u << 23) - 0.5f;
    if (!gemm(n, a.data(), b.data(), c.data())) return 1;  // warm-up: threads, page faults
    double best = 0;
    for (int r = 0; r < runs; ++r) {
      long iters = 0;
      auto t0 = Clock::now();
      double elapsed = 0;
      do {
        if (!gemm(n, a.data(), b.data(), c.data())) return 1;
        ++iters;
        elapsed = seconds(t0, Clock::now());
      } while (elapsed < minSeconds);
      best = std::max(best, 2.0 * double(n) * double(n) * double(n) * double(iters) / elapsed / 1e9);
    }
    std::printf("sgemm %ld^3: %.1f GFLOP/s (best of %d runs of >= %.2f s)\n", long(n), best, runs, minSeconds);
    peak = std::max(peak, best);
  }
  std::printf("peak_gflops=%.1f\n", peak);
  return 0;
}
