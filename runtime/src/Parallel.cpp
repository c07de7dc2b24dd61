// mlcrt_parallel_for: the generated kernels' one way to use several threads.
// OpenMP because oneDNN's GEMMs already run on its thread team, so kernels
// and GEMMs share the same threads instead of oversubscribing the cores.
#include "abi/plan.h"

#include <omp.h>

namespace {

// Below this many elements a kernel takes a few microseconds on one core,
// about what waking the other threads costs.
constexpr int64_t kMinParallelWork = 16384;

}  // namespace

extern "C" void mlcrt_parallel_for(mlc_kernel_fn fn, mlc_step_ctx *ctx, int64_t n, int64_t work) {
  int threads = omp_get_max_threads();
  if (threads <= 1 || n < 2 || n * work < kMinParallelWork) {
    fn(ctx, 0, n);
    return;
  }
  if (threads > n) threads = int(n);
#pragma omp parallel num_threads(threads)
  {
    int64_t t = omp_get_thread_num(), count = omp_get_num_threads();
    int64_t begin = n * t / count, end = n * (t + 1) / count;
    if (begin < end) fn(ctx, begin, end);
  }
}
