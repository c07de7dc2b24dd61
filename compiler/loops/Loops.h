// The loop IR: what the code generator translates, one step at a time. A
// program has buffers (each at a planned place in the step context) and
// step functions; a step is a GEMM call or a loop kernel whose body is a
// small expression DAG. Graph ops are lowered to kernels, elementwise chains
// are fused into one kernel, and memory planning assigns the offsets.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace mlc::loops {

/// A size or trip count: perBatch * batch + fixed (one of the two is zero).
struct Extent {
  int64_t fixed = 0;
  int64_t perBatch = 0;

  static Extent of(int64_t n) { return {n, 0}; }
  static Extent batch(int64_t perSample) { return {0, perSample}; }
  bool batched() const { return perBatch != 0; }
  int64_t at(int64_t batch) const { return perBatch * batch + fixed; }
  bool operator==(const Extent &o) const { return fixed == o.fixed && perBatch == o.perBatch; }
};

enum class DType : uint8_t { F32, I64 };

/// Where a buffer lives in the step context (runtime/abi/plan.h):
/// State: ctx->state + offset (parameters, optimizer moments; persistent).
/// Io: ctx->io[slot] (the runtime fills inputs and reads results).
/// Scratch: ctx->scratch + offset + perSampleOffset * ctx->batch (planned;
///   dead after the step). Batched buffers have perSampleOffset set and
///   offset = the size of the fixed part, so one plan fits every batch size.
enum class Region : uint8_t { State, Io, Scratch };

struct Buffer {
  std::string name;
  DType dtype = DType::F32;
  Extent elements;
  Region region = Region::Scratch;
  int64_t offset = 0;           // bytes (State, Scratch)
  int64_t perSampleOffset = 0;  // bytes per sample (batched Scratch)
  int slot = -1;                // Io
  int aliasOf = -1;             // set by planning when it reuses another buffer in place
};

enum class ExprOp : uint8_t {
  // leaves
  ConstF,   // f
  ConstI,   // i
  Var,      // i: loop index (0 = outermost domain loop; domain.size() = the reduction loop)
  HParam,   // i: slot in ctx->hparams (f32)
  Batch,    // ctx->batch (i64)
  Acc,      // the reduction's result (only in stores of a reducing kernel)
  Load,     // buffer[a]; a is an i64 index in elements; dtype of the buffer
  // f32, one operand a
  Neg, Exp, Log, Sqrt, Tanh, Cos, Floor, Abs,
  // f32, two operands a, b
  FAdd, FSub, FMul, FDiv, FMin, FMax, FPow,
  FLess,    // 1.0 when a < b else 0.0
  Select,   // a != 0 ? b : c
  // i64, two operands
  IAdd, IMul, IDiv, IMod,
  IMin, IMax,  // i64 minimum and maximum (ids clamped into a table)
  IEq,      // 1.0 (f32) when a == b else 0.0
  ToFloat,  // i64 a -> f32
  Rand,     // f32 uniform in [0, 1): (mlc_dropout_u32(mlc_rng_stream(ctx->seed, ctx->micro, i), a) >> 8) * 2^-24
            // (24 bits fit the significand; * 2^-32 of all 32 could round up to 1.0); a = counter (i64)
};

struct Expr {
  ExprOp op = ExprOp::ConstF;
  int a = -1, b = -1, c = -1;  // operands: indices into Kernel::exprs (always smaller than this one's)
  double f = 0;
  int64_t i = 0;
  int buffer = -1;             // Load
};

/// Writes value to buffer[index], or adds to it when `accumulate`.
struct Store {
  int buffer = -1;
  int index = -1;  // i64 expr
  int value = -1;  // expr of the buffer's dtype
  bool accumulate = false;
};

/// for v0 in domain[0]: ... for vN in domain[N]:
///   [acc = init; for r in reduceExtent: acc = combine(acc, exprs[reduceValue])]
///   stores (in order)
/// Stores of a reducing kernel run once per domain point, after the
/// reduction loop, and may read Acc. Without a reduction the innermost
/// domain loop should be unit-stride so that it vectorises. Iterations of
/// the outermost loop are independent when `parallel` is set.
struct Kernel {
  std::string name;
  std::vector<Extent> domain;
  bool reduces = false;
  enum Combine : uint8_t { Sum, Max } combine = Sum;
  Extent reduceExtent;
  int reduceValue = -1;
  double init = 0;
  std::vector<Expr> exprs;
  std::vector<Store> stores;
  bool parallel = false;

  int add(Expr e) {
    exprs.push_back(e);
    return int(exprs.size()) - 1;
  }
};

/// C = alpha * op(A) · op(B) + beta * C, row-major, through the runtime's
/// mlcrt_sgemm (oneDNN). Operands are a buffer plus an element offset.
struct Gemm {
  std::string name;
  bool transA = false, transB = false;
  Extent m, n, k;
  int a = -1, b = -1, c = -1;
  int64_t offsetA = 0, offsetB = 0, offsetC = 0;
  int64_t lda = 0, ldb = 0, ldc = 0;
  float alpha = 1, beta = 0;
};

using Step = std::variant<Kernel, Gemm>;

struct Function {
  std::string name;  // train_step, apply_step, eval_step: the symbol is `mlc_<name>`
  std::vector<Step> steps;
};

struct Program {
  std::vector<Buffer> buffers;
  std::vector<Function> functions;
  int64_t stateBytes = 0;
  int64_t scratchFixedBytes = 0;      // the fixed part of the scratch arena
  int64_t scratchPerSampleBytes = 0;  // plus this much per sample in the batch
  int ioSlots = 0;

  int addBuffer(Buffer b) {
    buffers.push_back(std::move(b));
    return int(buffers.size()) - 1;
  }
};

}  // namespace mlc::loops
