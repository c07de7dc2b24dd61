/* The one contract between the mlc compiler's output and libmlcrt.
 *
 * A compiled experiment (an object file linked into ./exp, or a module in
 * `mlc run`'s JIT) defines mlc_get_plan(). The plan carries a JSON manifest
 * per compiled variant (data source, schema of every overridable key,
 * state and io layout, metrics, names, the sweep's trial graph) and the
 * entry points of its step program. The runtime
 * owns the loop, the data, the memory and the metrics; the step functions
 * own the math. Bump MLC_PLAN_ABI_VERSION on any change to this file. */
#ifndef MLC_RUNTIME_ABI_PLAN_H
#define MLC_RUNTIME_ABI_PLAN_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MLC_PLAN_ABI_VERSION 3

/* What a step function sees. Buffer addresses (from the manifest):
 *   state   : state + offset                          (persistent)
 *   io      : io[slot]                                (runtime-owned)
 *   scratch : scratch + offset + per_sample_offset * batch  (dead after the step) */
typedef struct mlc_step_ctx {
  char *state;
  char *scratch;
  void *const *io;
  const float *hparams; /* by slot, see the manifest's "hparams" */
  int64_t batch;        /* samples in this batch */
  uint64_t seed;        /* the run's seed */
  uint64_t micro;       /* forward passes so far: the dropout stream */
} mlc_step_ctx;

typedef void (*mlc_step_fn)(mlc_step_ctx *ctx);

/* One compiled variant of the experiment. A sweep over parameters that
 * change the step program (layer widths, depth) compiles each combination
 * of their values; every manifest names its values under "variant". */
typedef struct mlc_variant {
  const char *manifest_json; /* NUL-terminated UTF-8 */
  mlc_step_fn train_step;    /* forward + backward (+ update when accumulate = 1) */
  mlc_step_fn apply_step;    /* update from accumulated gradients; NULL when accumulate = 1 */
  mlc_step_fn eval_step;     /* forward only: loss and outputs, dropout off */
} mlc_variant;

typedef struct mlc_plan {
  uint32_t abi_version;       /* MLC_PLAN_ABI_VERSION */
  uint32_t variant_count;     /* at least 1 */
  const mlc_variant *variants; /* [0]: the spec's own values */
} mlc_plan;

/* Defined by the compiled experiment. */
const mlc_plan *mlc_get_plan(void);

/* Defined by libmlcrt: runs the experiment's command line (fit, test,
 * predict, overrides). Returns the process exit status. */
int mlcrt_main(const mlc_plan *plan, int argc, char **argv);

/* Defined by libmlcrt, called by the step program: row-major
 * C = alpha * op(A) op(B) + beta * C, op(X) = X^T when trans_x != 0. */
void mlcrt_sgemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                 const float *b, int64_t ldb, float beta, float *c, int64_t ldc);

/* A loop kernel over [begin, end) of its outermost loop. */
typedef void (*mlc_kernel_fn)(mlc_step_ctx *ctx, int64_t begin, int64_t end);

/* Defined by libmlcrt, called by the step program for kernels whose
 * iterations are independent: runs fn over [0, n), split into contiguous
 * ranges over the worker threads when n * work (elements) pays for them. */
void mlcrt_parallel_for(mlc_kernel_fn fn, mlc_step_ctx *ctx, int64_t n, int64_t work);

/* The counter-based random streams. Any (seed, stream, key) names an
 * independent sequence indexed by a counter, so a resumed run or another
 * thread partition draws exactly the same numbers.
 *
 * mlc_rng_u32: splitmix64's finaliser throughout; the runtime's shuffles
 * and initialisation use it.
 *
 * mlc_rng_stream + mlc_dropout_u32: dropout masks in generated code. The
 * 64-bit key is computed once per kernel; per element there is only 32-bit
 * arithmetic (murmur3's finaliser over key and counter), which vectorises
 * to twice the lanes of 64-bit multiplies. The code generator emits the
 * same arithmetic; test/unit checks that the two agree bit for bit. */
static inline uint64_t mlc_mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
static inline uint64_t mlc_rng_stream(uint64_t seed, uint64_t stream, uint64_t key) {
  return mlc_mix64(seed ^ mlc_mix64(stream * 0x9e3779b97f4a7c15ULL + key));
}
static inline uint32_t mlc_rng_u32(uint64_t seed, uint64_t stream, uint64_t key, uint64_t counter) {
  return (uint32_t)(mlc_mix64(mlc_rng_stream(seed, stream, key) + counter * 0x9e3779b97f4a7c15ULL) >> 32);
}
/* Counters past 2^32 wrap: a mask repeats only after 4 billion elements. */
static inline uint32_t mlc_dropout_u32(uint64_t stream_key, uint64_t counter) {
  uint32_t x = ((uint32_t)counter * 0x9e3779b1u + (uint32_t)stream_key) ^ (uint32_t)(stream_key >> 32);
  x ^= x >> 16;
  x *= 0x85ebca6bu;
  x ^= x >> 13;
  x *= 0xc2b2ae35u;
  return x ^ (x >> 16);
}

#ifdef __cplusplus
}
#endif

#endif
