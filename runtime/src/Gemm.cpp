// The step program's one call into a library: every matmul and linear layer
// lowers to mlcrt_sgemm, which oneDNN runs with the OpenMP threads that
// --threads set.
#include "abi/plan.h"

#include <dnnl.h>
#include <dnnl_debug.h>
#include <omp.h>

#include <cstdio>
#include <cstdlib>

namespace {
constexpr int kSmallGemmLog2Flops = 21;  // 2 MFLOP
}

extern "C" void mlcrt_sgemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                            int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
  // An empty product writes nothing; oneDNN would reject the leading
  // dimensions of the degenerate operands instead.
  if (m == 0 || n == 0) return;
  if (k == 0) {
    // An empty sum: BLAS scales C by beta, but oneDNN leaves C untouched,
    // and beta = 0 must also clear NaNs left in C.
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
    return;
  }
  // A small product finishes on one core in about the time the team's
  // barrier costs (measured: 64x10x128 takes 2.3 us alone, 2.8 us on two
  // threads), so it runs on the calling thread. oneDNN sizes its team from
  // the caller's OpenMP setting at each call.
  int threads = omp_get_max_threads();
  bool small = threads > 1 && 2 * m * n * k < (int64_t(1) << kSmallGemmLog2Flops);
  if (small) omp_set_num_threads(1);
  dnnl_status_t status =
      dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  if (small) omp_set_num_threads(threads);
  if (status != dnnl_success) {
    // The caller is generated code with no way to report an error, and a
    // wrong product would silently train garbage: stop here.
    std::fprintf(stderr,
                 "error: sgemm failed in oneDNN (%s): trans_a=%d trans_b=%d m=%lld n=%lld k=%lld lda=%lld ldb=%lld "
                 "ldc=%lld\n",
                 dnnl_status2str(status), trans_a, trans_b, (long long)m, (long long)n, (long long)k, (long long)lda,
                 (long long)ldb, (long long)ldc);
    std::abort();
  }
}
