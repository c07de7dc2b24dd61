// The code generator on hand-built loop programs, run in-process through the
// JIT with a hand-made step context: elementwise, reducing and accumulating
// kernels, GEMM calls, the random stream, the inline math, object files.
#include "codegen/Codegen.h"

#include "abi/plan.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <stdexcept>
#include <vector>

namespace {

using namespace mlc;
using loops::Buffer;
using loops::Expr;
using loops::ExprOp;
using loops::Extent;
using loops::Kernel;
using loops::Region;

// Expression builders.
int constF(Kernel &k, double f) {
  Expr e;
  e.op = ExprOp::ConstF;
  e.f = f;
  return k.add(e);
}
int constI(Kernel &k, int64_t i) {
  Expr e;
  e.op = ExprOp::ConstI;
  e.i = i;
  return k.add(e);
}
int leaf(Kernel &k, ExprOp op, int64_t i = 0) {
  Expr e;
  e.op = op;
  e.i = i;
  return k.add(e);
}
int op(Kernel &k, ExprOp o, int a, int b = -1, int c = -1) {
  Expr e;
  e.op = o;
  e.a = a;
  e.b = b;
  e.c = c;
  return k.add(e);
}
int load(Kernel &k, int buffer, int index) {
  Expr e;
  e.op = ExprOp::Load;
  e.buffer = buffer;
  e.a = index;
  return k.add(e);
}
void store(Kernel &k, int buffer, int index, int value, bool accumulate = false) {
  k.stores.push_back({buffer, index, value, accumulate});
}
// v0 * width + v1: a row-major 2-D index.
int index2(Kernel &k, int64_t width, int row = 0, int col = 1) {
  return op(k, ExprOp::IAdd, op(k, ExprOp::IMul, leaf(k, ExprOp::Var, row), constI(k, width)),
            leaf(k, ExprOp::Var, col));
}

Buffer buffer(const char *name, Extent elements, Region region, int64_t offset = 0, int slot = -1,
              loops::DType dtype = loops::DType::F32) {
  Buffer b;
  b.name = name;
  b.dtype = dtype;
  b.elements = elements;
  b.region = region;
  b.offset = offset;
  b.slot = slot;
  return b;
}

loops::Program oneStep(loops::Program program, std::vector<loops::Step> steps, const char *name = "train_step") {
  program.functions.push_back({name, std::move(steps)});
  return program;
}

std::unique_ptr<codegen::JitModule> jit(const loops::Program &program, const std::string &manifest = "{}",
                                        const codegen::Options &options = {}) {
  std::string error;
  auto module = codegen::JitModule::create(program, manifest, options,
                                           {{"mlcrt_sgemm", reinterpret_cast<void *>(&mlcrt_sgemm)}, {"mlcrt_parallel_for", reinterpret_cast<void *>(&mlcrt_parallel_for)}}, error);
  EXPECT_TRUE(module) << error;
  return module;
}

mlc_step_ctx context(std::vector<char> &state, std::vector<char> &scratch, std::vector<void *> &io, int64_t batch,
                     const float *hparams = nullptr) {
  return mlc_step_ctx{state.data(), scratch.data(), io.data(), hparams, batch, 0, 0};
}

TEST(Codegen, ElementwiseBroadcastRowAndPlan) {
  const int64_t cols = 37, batch = 3;  // 37: the vector loop needs its remainder
  loops::Program p;
  int a = p.addBuffer(buffer("a", Extent::batch(cols), Region::Io, 0, 0));
  int b = p.addBuffer(buffer("b", Extent::of(cols), Region::State, 16));
  Buffer cb = buffer("c", Extent::batch(cols), Region::Scratch, 64);
  cb.perSampleOffset = 8;  // after a batched buffer of 2 floats per sample
  int c = p.addBuffer(cb);
  int y = p.addBuffer(buffer("y", Extent::batch(cols), Region::Io, 0, 1));
  Kernel k;
  k.name = "fma_relu";
  k.domain = {Extent::batch(1), Extent::of(cols)};
  int i = index2(k, cols);
  int prod = op(k, ExprOp::FMul, load(k, a, i), load(k, b, leaf(k, ExprOp::Var, 1)));
  int sum = op(k, ExprOp::FAdd, prod, op(k, ExprOp::FMul, load(k, c, i), leaf(k, ExprOp::HParam, 1)));
  store(k, y, i, op(k, ExprOp::FMax, sum, constF(k, 0.0)));
  auto module = jit(oneStep(p, {k}), R"({"name":"t"})");
  ASSERT_TRUE(module);
  const mlc_plan *plan = module->plan();
  EXPECT_EQ(plan->abi_version, uint32_t(MLC_PLAN_ABI_VERSION));
  ASSERT_EQ(plan->variant_count, 1u);
  EXPECT_STREQ(plan->variants[0].manifest_json, R"({"name":"t"})");
  ASSERT_NE(plan->variants[0].train_step, nullptr);
  EXPECT_EQ(plan->variants[0].apply_step, nullptr);
  EXPECT_EQ(plan->variants[0].eval_step, nullptr);

  std::vector<float> av(batch * cols), yv(batch * cols, -1);
  std::vector<char> state(16 + cols * 4), scratch(64 + 8 * batch + batch * cols * 4);
  auto *bv = reinterpret_cast<float *>(state.data() + 16);
  auto *cv = reinterpret_cast<float *>(scratch.data() + 64 + 8 * batch);
  for (int64_t n = 0; n < batch * cols; ++n) {
    av[n] = float(n % 7 - 3);
    cv[n] = float(n % 11 - 5);
  }
  for (int64_t j = 0; j < cols; ++j)
    bv[j] = float(j % 5 - 2) + 0.5f;
  std::vector<void *> io{av.data(), yv.data()};
  std::vector<float> hparams{0.f, 0.5f};
  mlc_step_ctx ctx = context(state, scratch, io, batch, hparams.data());
  plan->variants[0].train_step(&ctx);
  for (int64_t r = 0; r < batch; ++r)
    for (int64_t j = 0; j < cols; ++j) {
      int64_t n = r * cols + j;
      EXPECT_EQ(yv[n], std::max(av[n] * bv[j] + cv[n] * 0.5f, 0.f)) << n;
    }
}

TEST(Codegen, ElementwiseLoopVectorises) {
  loops::Program p;
  int x = p.addBuffer(buffer("x", Extent::batch(64), Region::Io, 0, 0));
  int y = p.addBuffer(buffer("y", Extent::batch(64), Region::Io, 0, 1));
  Kernel k;
  k.name = "relu";
  k.domain = {Extent::batch(64)};
  int i = leaf(k, ExprOp::Var, 0);
  store(k, y, i, op(k, ExprOp::FMax, op(k, ExprOp::Exp, load(k, x, i)), constF(k, 0.0)));
  codegen::Options portable;
  portable.hostCpu = false;
  std::string ir = codegen::emitLLVMText(oneStep(p, {k}), "{}", portable);
  EXPECT_NE(ir.find("<4 x float>"), std::string::npos) << ir;  // SSE on x86-64-v2
  EXPECT_EQ(ir.find("expf"), std::string::npos);               // no libm
  EXPECT_EQ(ir.find("llvm.exp"), std::string::npos);
  std::string host = codegen::emitLLVMText(oneStep(p, {k}), "{}", codegen::Options{});
  EXPECT_NE(host.find(" x float>"), std::string::npos);
}

TEST(Codegen, RowSumMaxAndFullReduction) {
  const int64_t cols = 9, batch = 4;
  loops::Program p;
  int x = p.addBuffer(buffer("x", Extent::batch(cols), Region::Io, 0, 0));
  int sums = p.addBuffer(buffer("sums", Extent::batch(1), Region::Io, 0, 1));
  int maxes = p.addBuffer(buffer("maxes", Extent::batch(1), Region::Io, 0, 2));
  int means = p.addBuffer(buffer("means", Extent::batch(1), Region::Io, 0, 3));
  int total = p.addBuffer(buffer("total", Extent::of(2), Region::Io, 0, 4));
  auto rowKernel = [&](Kernel::Combine combine, double init) {
    Kernel k;
    k.name = "row";
    k.domain = {Extent::batch(1)};
    k.reduces = true;
    k.combine = combine;
    k.init = init;
    k.reduceExtent = Extent::of(cols);
    k.reduceValue = load(k, x, index2(k, cols));
    return k;
  };
  Kernel sum = rowKernel(Kernel::Sum, 0);
  int row = leaf(sum, ExprOp::Var, 0), acc = leaf(sum, ExprOp::Acc);
  store(sum, sums, row, acc);
  store(sum, means, row, op(sum, ExprOp::FDiv, acc, constF(sum, double(cols))));
  Kernel max = rowKernel(Kernel::Max, -INFINITY);
  store(max, maxes, leaf(max, ExprOp::Var, 0), leaf(max, ExprOp::Acc));
  // No domain: one reduction over everything; and one over nothing.
  Kernel all;
  all.name = "all";
  all.reduces = true;
  all.reduceExtent = Extent::batch(cols);
  all.reduceValue = load(all, x, leaf(all, ExprOp::Var, 0));
  store(all, total, constI(all, 0), leaf(all, ExprOp::Acc));
  Kernel none;
  none.name = "none";
  none.reduces = true;
  none.combine = Kernel::Max;
  none.init = -INFINITY;
  none.reduceExtent = Extent::of(0);
  none.reduceValue = constF(none, 1.0);
  store(none, total, constI(none, 1), leaf(none, ExprOp::Acc));
  auto module = jit(oneStep(p, {sum, max, all, none}));
  ASSERT_TRUE(module);

  std::vector<float> xv(batch * cols), sv(batch), mv(batch), meanv(batch), tv(2);
  for (int64_t n = 0; n < batch * cols; ++n)
    xv[n] = float(n % 13 - 6);
  std::vector<char> state(8), scratch(8);
  std::vector<void *> io{xv.data(), sv.data(), mv.data(), meanv.data(), tv.data()};
  mlc_step_ctx ctx = context(state, scratch, io, batch);
  module->plan()->variants[0].train_step(&ctx);
  float everything = 0;
  for (int64_t r = 0; r < batch; ++r) {
    float s = 0, m = -INFINITY;
    for (int64_t j = 0; j < cols; ++j) {
      s += xv[r * cols + j];
      m = std::max(m, xv[r * cols + j]);
    }
    everything += s;
    EXPECT_EQ(sv[r], s) << r;
    EXPECT_EQ(mv[r], m) << r;
    EXPECT_EQ(meanv[r], s / float(cols)) << r;
  }
  EXPECT_EQ(tv[0], everything);
  EXPECT_EQ(tv[1], -INFINITY);
}

TEST(Codegen, AccumulatedColumnSums) {
  const int64_t cols = 19, batch = 6;
  loops::Program p;
  int x = p.addBuffer(buffer("x", Extent::batch(cols), Region::Io, 0, 0));
  int colsum = p.addBuffer(buffer("colsum", Extent::of(cols), Region::State, 8));
  int count = p.addBuffer(buffer("count", Extent::of(cols), Region::State, 8 + 4 * cols, -1, loops::DType::I64));
  Kernel zero;
  zero.name = "zero";
  zero.domain = {Extent::of(cols)};
  store(zero, colsum, leaf(zero, ExprOp::Var, 0), constF(zero, 0.0));
  store(zero, count, leaf(zero, ExprOp::Var, 0), constI(zero, 0));
  Kernel add;
  add.name = "colsum";
  add.domain = {Extent::batch(1), Extent::of(cols)};
  int col = leaf(add, ExprOp::Var, 1);
  store(add, colsum, col, load(add, x, index2(add, cols)), true);
  store(add, count, col, constI(add, 1), true);
  auto module = jit(oneStep(p, {zero, add}));
  ASSERT_TRUE(module);

  std::vector<float> xv(batch * cols);
  for (int64_t n = 0; n < batch * cols; ++n)
    xv[n] = float(n % 17) - 8.0f;
  std::vector<char> state(8 + 12 * cols), scratch(8);
  std::vector<void *> io{xv.data()};
  mlc_step_ctx ctx = context(state, scratch, io, batch);
  for (int run = 0; run < 2; ++run) {  // the second run must not see the first
    module->plan()->variants[0].train_step(&ctx);
    auto *sums = reinterpret_cast<const float *>(state.data() + 8);
    auto *counts = reinterpret_cast<const int64_t *>(state.data() + 8 + 4 * cols);
    for (int64_t j = 0; j < cols; ++j) {
      float s = 0;
      for (int64_t r = 0; r < batch; ++r)
        s += xv[r * cols + j];
      EXPECT_EQ(sums[j], s) << j;
      EXPECT_EQ(counts[j], batch) << j;
    }
  }
}

TEST(Codegen, GemmTransposeVariants) {
  const int64_t batch = 5, n = 6, k = 7;  // m = batch
  for (int transA = 0; transA < 2; ++transA)
    for (int transB = 0; transB < 2; ++transB) {
      loops::Gemm g;
      g.name = "gemm";
      g.transA = transA;
      g.transB = transB;
      g.m = Extent::batch(1);
      g.n = Extent::of(n);
      g.k = Extent::of(k);
      g.lda = transA ? batch + 1 : k + 2;  // row strides wider than the rows
      g.ldb = transB ? k + 1 : n + 3;
      g.ldc = n + 1;
      g.offsetA = 3;
      g.offsetB = 1;
      g.offsetC = 2;
      g.alpha = 0.5f;
      g.beta = 2.0f;
      loops::Program p;
      g.a = p.addBuffer(buffer("A", Extent::of(100), Region::State, 0));
      g.b = p.addBuffer(buffer("B", Extent::of(100), Region::State, 400));
      g.c = p.addBuffer(buffer("C", Extent::of(100), Region::Io, 0, 0));
      auto module = jit(oneStep(p, {g}));
      ASSERT_TRUE(module);

      std::vector<char> state(800), scratch(8);
      auto *av = reinterpret_cast<float *>(state.data()), *bv = reinterpret_cast<float *>(state.data() + 400);
      std::vector<float> cv(100);
      for (int i = 0; i < 100; ++i) {
        av[i] = std::sin(float(i));
        bv[i] = std::cos(float(i) * 0.7f);
        cv[i] = float(i % 5) * 0.25f;
      }
      std::vector<float> expected = cv;
      const float *A = av + g.offsetA, *B = bv + g.offsetB;
      for (int64_t i = 0; i < batch; ++i)
        for (int64_t j = 0; j < n; ++j) {
          double dot = 0;
          for (int64_t l = 0; l < k; ++l)
            dot += double(transA ? A[l * g.lda + i] : A[i * g.lda + l]) *
                   double(transB ? B[j * g.ldb + l] : B[l * g.ldb + j]);
          float &c = expected[size_t(g.offsetC + i * g.ldc + j)];
          c = float(g.alpha * dot + g.beta * c);
        }
      std::vector<void *> io{cv.data()};
      mlc_step_ctx ctx = context(state, scratch, io, batch);
      module->plan()->variants[0].train_step(&ctx);
      for (int i = 0; i < 100; ++i)
        EXPECT_NEAR(cv[i], expected[i], 1e-4) << "transA " << transA << " transB " << transB << " at " << i;
    }
}

TEST(Codegen, RandMatchesRuntimeStream) {
  const int64_t count = 1000, offset = 12345;
  const uint64_t seed = 0x0123456789abcdefULL, micro = 42;
  loops::Program p;
  int out = p.addBuffer(buffer("out", Extent::of(2 * count), Region::Io, 0, 0));
  Kernel k;
  k.name = "rand";
  k.domain = {Extent::of(count)};
  int i = leaf(k, ExprOp::Var, 0);
  int counter = op(k, ExprOp::IAdd, i, constI(k, offset));
  int key7 = op(k, ExprOp::Rand, counter);
  k.exprs.back().i = 7;  // the key
  int key8 = op(k, ExprOp::Rand, counter);
  k.exprs.back().i = 8;
  store(k, out, i, key7);
  store(k, out, op(k, ExprOp::IAdd, i, constI(k, count)), key8);
  auto module = jit(oneStep(p, {k}, "eval_step"));
  ASSERT_TRUE(module);
  ASSERT_NE(module->plan()->variants[0].eval_step, nullptr);
  EXPECT_EQ(module->plan()->variants[0].train_step, nullptr);

  std::vector<float> values(2 * count);
  std::vector<char> state(8), scratch(8);
  std::vector<void *> io{values.data()};
  mlc_step_ctx ctx = context(state, scratch, io, 1);
  ctx.seed = seed;
  ctx.micro = micro;
  module->plan()->variants[0].eval_step(&ctx);
  int same = 0;
  for (int64_t n = 0; n < count; ++n) {
    for (int key : {7, 8}) {
      float expected = float(mlc_dropout_u32(mlc_rng_stream(seed, micro, key), uint64_t(n + offset)) >> 8) * 0x1p-24f;
      float got = values[size_t(n + (key - 7) * count)];
      ASSERT_EQ(std::memcmp(&got, &expected, sizeof got), 0) << "key " << key << " counter " << n;
      EXPECT_GE(got, 0.f);
      EXPECT_LT(got, 1.f);
    }
    same += values[size_t(n)] == values[size_t(n + count)];
  }
  EXPECT_LT(same, 5);  // the two keys are different streams
}

// Runs `fn` elementwise over `inputs` (and `second` for two-operand ops).
std::vector<float> elementwise(ExprOp fn, const std::vector<float> &inputs, const std::vector<float> &second = {},
                               double constExponent = NAN, const codegen::Options &options = {}) {
  const int64_t count = int64_t(inputs.size());
  loops::Program p;
  int x = p.addBuffer(buffer("x", Extent::of(count), Region::Io, 0, 0));
  int z = p.addBuffer(buffer("z", Extent::of(count), Region::Io, 0, 1));
  int y = p.addBuffer(buffer("y", Extent::of(count), Region::Io, 0, 2));
  Kernel k;
  k.name = "math";
  k.domain = {Extent::of(count)};
  int i = leaf(k, ExprOp::Var, 0);
  int operand2 = std::isnan(constExponent) ? load(k, z, i) : constF(k, constExponent);
  store(k, y, i, second.empty() && std::isnan(constExponent) ? op(k, fn, load(k, x, i)) : op(k, fn, load(k, x, i), operand2));
  auto module = jit(oneStep(p, {k}), "{}", options);
  std::vector<float> out(inputs.size()), zs = second;
  zs.resize(inputs.size());
  std::vector<char> state(8), scratch(8);
  std::vector<void *> io{const_cast<float *>(inputs.data()), zs.data(), out.data()};
  mlc_step_ctx ctx = context(state, scratch, io, 1);
  if (module)
    module->plan()->variants[0].train_step(&ctx);
  return out;
}

std::vector<float> range(double lo, double hi, int count) {
  std::vector<float> v;
  for (int n = 0; n < count; ++n)
    v.push_back(float(lo + (hi - lo) * n / (count - 1)));
  return v;
}

double relativeError(float got, double want) { return std::fabs(double(got) - want) / std::fabs(want); }

TEST(Codegen, ExpAccuracyAndEdges) {
  std::vector<float> xs = range(-87, 88.5, 200001);
  std::vector<float> ys = elementwise(ExprOp::Exp, xs);
  double worst = 0;
  for (size_t n = 0; n < xs.size(); ++n)
    worst = std::max(worst, relativeError(ys[n], std::exp(double(xs[n]))));
  EXPECT_LT(worst, 1e-6);
  std::vector<float> edges{0.f, -0.f, -104.f, -200.f, -1e30f, -INFINITY, 89.f, 100.f, INFINITY, NAN, 88.7f, -87.5f};
  std::vector<float> e = elementwise(ExprOp::Exp, edges);
  EXPECT_EQ(e[0], 1.f);
  EXPECT_EQ(e[1], 1.f);
  EXPECT_EQ(e[2], 0.f);
  EXPECT_EQ(e[3], 0.f);
  EXPECT_EQ(e[4], 0.f);
  EXPECT_EQ(e[5], 0.f);
  EXPECT_EQ(e[6], INFINITY);
  EXPECT_EQ(e[7], INFINITY);
  EXPECT_EQ(e[8], INFINITY);
  EXPECT_TRUE(std::isnan(e[9]));
  EXPECT_TRUE(std::isfinite(e[10]));
  EXPECT_LT(relativeError(e[10], std::exp(double(88.7f))), 1e-6);
  EXPECT_LT(relativeError(e[11], std::exp(-87.5)), 1e-5);  // subnormal: fewer bits
}

TEST(Codegen, LogAccuracyAndEdges) {
  std::vector<float> xs;
  for (double t = -37.5; t <= 38.5; t += 0.0003)
    xs.push_back(float(std::pow(10.0, t)));
  for (float x : range(0.5, 2.0, 100001))
    xs.push_back(x);
  std::vector<float> ys = elementwise(ExprOp::Log, xs);
  double worst = 0;
  for (size_t n = 0; n < xs.size(); ++n)
    if (xs[n] != 1.f)
      worst = std::max(worst, relativeError(ys[n], std::log(double(xs[n]))));
  EXPECT_LT(worst, 1e-6);
  std::vector<float> edges{1.f, 0.f, -0.f, -1.f, INFINITY, -INFINITY, NAN, 1e-40f, 1e-45f};
  std::vector<float> e = elementwise(ExprOp::Log, edges);
  EXPECT_EQ(e[0], 0.f);
  EXPECT_EQ(e[1], -INFINITY);
  EXPECT_EQ(e[2], -INFINITY);
  EXPECT_TRUE(std::isnan(e[3]));
  EXPECT_EQ(e[4], INFINITY);
  EXPECT_TRUE(std::isnan(e[5]));
  EXPECT_TRUE(std::isnan(e[6]));
  EXPECT_LT(relativeError(e[7], std::log(double(1e-40f))), 1e-6);  // subnormal input
  EXPECT_LT(relativeError(e[8], std::log(double(1e-45f))), 1e-6);
}

TEST(Codegen, TanhCosPowAccuracy) {
  std::vector<float> xs = range(-12, 12, 200001);
  std::vector<float> th = elementwise(ExprOp::Tanh, xs);
  double worstAbs = 0;
  for (size_t n = 0; n < xs.size(); ++n)
    worstAbs = std::max(worstAbs, std::fabs(double(th[n]) - std::tanh(double(xs[n]))));
  EXPECT_LT(worstAbs, 1e-6);
  std::vector<float> small = range(-1e-3, 1e-3, 2001);
  std::vector<float> ts = elementwise(ExprOp::Tanh, small);
  for (size_t n = 0; n < small.size(); ++n)
    if (small[n] != 0.f) {
      EXPECT_LT(relativeError(ts[n], std::tanh(double(small[n]))), 1e-6) << small[n];
    }
  std::vector<float> e = elementwise(ExprOp::Tanh, {0.f, -0.f, 20.f, -20.f, NAN, INFINITY});
  EXPECT_EQ(e[0], 0.f);
  EXPECT_TRUE(std::signbit(e[1]));
  EXPECT_EQ(e[2], 1.f);
  EXPECT_EQ(e[3], -1.f);
  EXPECT_TRUE(std::isnan(e[4]));
  EXPECT_EQ(e[5], 1.f);

  std::vector<float> cs = range(-100, 100, 200001);
  std::vector<float> cv = elementwise(ExprOp::Cos, cs);
  worstAbs = 0;
  for (size_t n = 0; n < cs.size(); ++n)
    worstAbs = std::max(worstAbs, std::fabs(double(cv[n]) - std::cos(double(cs[n]))));
  EXPECT_LT(worstAbs, 1e-6);

  std::vector<float> pw = elementwise(ExprOp::FPow, {2.f, -2.f, -2.f, 0.f, 5.f, NAN, 9.f}, {10.f, 3.f, 0.5f, 2.f, 0.f, 0.f, 0.5f});
  EXPECT_LT(relativeError(pw[0], 1024.0), 1e-5);
  EXPECT_LT(relativeError(pw[1], -8.0), 1e-5);
  EXPECT_TRUE(std::isnan(pw[2]));
  EXPECT_EQ(pw[3], 0.f);
  EXPECT_EQ(pw[4], 1.f);
  EXPECT_EQ(pw[5], 1.f);
  EXPECT_LT(relativeError(pw[6], 3.0), 1e-6);
  std::vector<float> sq = elementwise(ExprOp::FPow, {-3.f, 1.5f}, {}, 2.0);  // constant exponent: exact square
  EXPECT_EQ(sq[0], 9.f);
  EXPECT_EQ(sq[1], 2.25f);
}

// A malformed loop program is a compiler bug: reported, not miscompiled.
TEST(Codegen, MalformedProgramsThrow) {
  loops::Program p;
  int x = p.addBuffer(buffer("x", Extent::of(4), Region::Io, 0, 0));
  Kernel outOfScope;
  outOfScope.name = "scope";
  outOfScope.domain = {Extent::of(4)};
  store(outOfScope, x, leaf(outOfScope, ExprOp::Var, 1), constF(outOfScope, 1.0));
  EXPECT_THROW(codegen::emitLLVMText(oneStep(p, {outOfScope}), "{}", {}), std::logic_error);
  Kernel mistyped;
  mistyped.name = "types";
  mistyped.domain = {Extent::of(4)};
  int i = leaf(mistyped, ExprOp::Var, 0);
  store(mistyped, x, i, op(mistyped, ExprOp::FAdd, i, constF(mistyped, 1.0)));
  EXPECT_THROW(codegen::emitLLVMText(oneStep(p, {mistyped}), "{}", {}), std::logic_error);
  Kernel forward;
  forward.name = "order";
  forward.domain = {Extent::of(4)};
  store(forward, x, leaf(forward, ExprOp::Var, 0), op(forward, ExprOp::Neg, 5));
  EXPECT_THROW(codegen::emitLLVMText(oneStep(p, {forward}), "{}", {}), std::logic_error);
}

// The same bits whether a loop runs vectorised (O3) or scalar (O0), and on
// the portable CPU or this one: no reassociation, no FMA contraction.
TEST(Codegen, MathIsBitIdenticalAcrossOptimisationAndCpu) {
  std::vector<float> xs = range(-90, 90, 10007);
  xs.push_back(NAN);
  xs.push_back(-INFINITY);
  codegen::Options scalar, portable;
  scalar.optLevel = 0;
  portable.hostCpu = false;
  for (ExprOp fn : {ExprOp::Exp, ExprOp::Log, ExprOp::Tanh, ExprOp::Cos}) {
    std::vector<float> fast = elementwise(fn, xs), slow = elementwise(fn, xs, {}, NAN, scalar);
    std::vector<float> base = elementwise(fn, xs, {}, NAN, portable);
    EXPECT_EQ(std::memcmp(fast.data(), slow.data(), xs.size() * sizeof(float)), 0) << int(fn);
    EXPECT_EQ(std::memcmp(fast.data(), base.data(), xs.size() * sizeof(float)), 0) << int(fn);
  }
}

TEST(Codegen, ObjectFileDefinesThePlan) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("mlc-codegen-test-" + std::to_string(getpid()));
  fs::create_directories(dir);
  loops::Program p;
  int x = p.addBuffer(buffer("x", Extent::batch(4), Region::Io, 0, 0));
  Kernel k;
  k.name = "double";
  k.domain = {Extent::batch(4)};
  int i = leaf(k, ExprOp::Var, 0);
  store(k, x, i, op(k, ExprOp::FMul, load(k, x, i), constF(k, 2.0)));
  p = oneStep(p, {k});
  std::string object = (dir / "exp.o").string(), error;
  ASSERT_TRUE(codegen::emitObject(p, "{}", codegen::Options{}, object, error)) << error;
  EXPECT_GT(fs::file_size(object), 0u);
  std::string symbols;
  if (FILE *nm = popen(("nm " + object).c_str(), "r")) {
    char line[512];
    while (fgets(line, sizeof line, nm))
      symbols += line;
    pclose(nm);
  }
  EXPECT_NE(symbols.find("T mlc_get_plan"), std::string::npos) << symbols;
  EXPECT_NE(symbols.find("T mlc_train_step"), std::string::npos) << symbols;

  EXPECT_FALSE(codegen::linkExecutable((dir / "missing.o").string(), (dir / "never").string(), error));
  EXPECT_NE(error.find("missing.o"), std::string::npos) << error;
  std::string exe = (dir / "exp").string();
  EXPECT_TRUE(codegen::linkExecutable(object, exe, error)) << error;
  EXPECT_EQ(access(exe.c_str(), X_OK), 0);
  fs::remove_all(dir);
}

}  // namespace
