// Unit tests of the loop IR passes: lowering, fusion, memory planning and
// the plan dump, on small hand-built graphs. A reference interpreter of the
// loop IR (double precision, naive GEMM) checks the numbers, once on the
// lowered program with a separate array per buffer and once after fusion
// and planning with buffers at their planned offsets in shared arenas, so
// wrong sharing or an illegal in-place write changes the results.
#include "abi/plan.h"
#include "loops/FuseKernels.h"
#include "loops/KernelBuilder.h"
#include "loops/LoopsDump.h"
#include "loops/LowerToLoops.h"
#include "loops/PlanMemory.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <stdexcept>

namespace mlc::loops {
namespace {

using graph::kBatch;
using graph::OpKind;

// --- building graphs ---

struct Builder {
  graph::Module m;
  size_t fn = 0;

  explicit Builder(const std::vector<std::string> &functions = {"train_step"}) {
    for (const std::string &name : functions) m.functions.push_back({name, {}});
  }
  graph::Function &f() { return m.functions[fn]; }
  graph::Shape shape(int v) { return f()[v].shape; }

  int add(OpKind op, std::vector<int> in, std::vector<int64_t> dims, graph::DType t = graph::DType::F32) {
    graph::Node n;
    n.op = op;
    n.inputs = std::move(in);
    n.shape.dims = std::move(dims);
    n.dtype = t;
    return f().add(std::move(n));
  }
  int input(std::vector<int64_t> dims) {
    int id = add(OpKind::Input, {}, std::move(dims));
    f()[id].name = "features";
    return id;
  }
  int label(std::vector<int64_t> dims, graph::DType t = graph::DType::I64) {
    int id = add(OpKind::Label, {}, std::move(dims), t);
    f()[id].name = "label";
    return id;
  }
  int state(const std::string &name, std::vector<int64_t> dims) {
    graph::StateDecl s;
    s.name = name;
    s.shape.dims = std::move(dims);
    return m.addState(std::move(s));
  }
  int param(int state) {
    int id = add(OpKind::Param, {}, m.states[size_t(state)].shape.dims);
    f()[id].index = state;
    return id;
  }
  int constant(double v) {
    int id = add(OpKind::Const, {}, {});
    f()[id].scalar = v;
    return id;
  }
  int hparam(const std::string &key, double v) {
    int id = add(OpKind::HParam, {}, {});
    f()[id].index = m.hparam(key, v);
    return id;
  }
  int unary(OpKind op, int a) { return add(op, {a}, shape(a).dims); }
  int binary(OpKind op, int a, int b) {
    graph::Shape s;
    EXPECT_TRUE(graph::broadcastShapes(shape(a), shape(b), s));
    return add(op, {a, b}, s.dims);
  }
  int dropout(OpKind op, int x, int p, int key) {
    int id = binary(op, x, p);
    f()[id].index = key;
    return id;
  }
  int reduce(OpKind op, int a, std::vector<int64_t> axes, bool keep) {
    std::vector<int64_t> dims;
    for (size_t i = 0; i < shape(a).rank(); ++i) {
      bool r = std::find(axes.begin(), axes.end(), int64_t(i)) != axes.end();
      if (!r) dims.push_back(shape(a).dims[i]);
      else if (keep) dims.push_back(1);
    }
    int id = add(op, {a}, dims);
    f()[id].ints = std::move(axes);
    f()[id].keepDims = keep;
    return id;
  }
  int withInts(OpKind op, std::vector<int> in, std::vector<int64_t> dims, std::vector<int64_t> ints) {
    int id = add(op, std::move(in), std::move(dims));
    f()[id].ints = std::move(ints);
    return id;
  }
  int matmul(int a, int b, bool ta, bool tb, std::vector<int64_t> dims) {
    return withInts(OpKind::MatMul, {a, b}, std::move(dims), {ta, tb});
  }
  void output(int v, const std::string &name) {
    int id = add(OpKind::Output, {v}, {});
    f()[id].name = name;
  }
  void assign(int state, int v) {
    int id = add(OpKind::Assign, {v}, {});
    f()[id].index = state;
  }
};

// --- the reference interpreter ---

int bufferNamed(const Program &p, const std::string &name) {
  for (size_t i = 0; i < p.buffers.size(); ++i)
    if (p.buffers[i].name == name) return int(i);
  ADD_FAILURE() << "no buffer " << name;
  return -1;
}

constexpr uint64_t kSeed = 11, kMicro = 3;

// Rand as Loops.h defines it: the top 24 bits of the stream, so exact in f32.
double rand01(int64_t key, int64_t counter) {
  return double(mlc_dropout_u32(mlc_rng_stream(kSeed, kMicro, uint64_t(key)), uint64_t(counter)) >> 8) * 0x1p-24;
}

/// Runs step functions. Memory is 4-byte cells (an i64 element occupies
/// two and keeps its value in the first); unwritten memory is NaN, so a
/// read before a write shows in the results.
class Machine {
public:
  Machine(const Program &p, int64_t batch, bool planned) : p_(p), batch_(batch), planned_(planned) {
    double nan = std::numeric_limits<double>::quiet_NaN();
    state_.assign(size_t(p.stateBytes / 4), nan);
    scratch_.assign(size_t((p.scratchFixedBytes + p.scratchPerSampleBytes * batch) / 4), nan);
    io_.resize(size_t(p.ioSlots));
    separate_.resize(p.buffers.size());
    for (size_t i = 0; i < p.buffers.size(); ++i) {
      const Buffer &b = p.buffers[i];
      size_t n = size_t(b.elements.at(batch));
      if (b.region == Region::Io) io_[size_t(b.slot)].assign(n, nan);
      if (b.region == Region::Scratch) separate_[i].assign(n, nan);
      if (planned && b.region == Region::Scratch && n) {
        int64_t end = b.offset + b.perSampleOffset * batch + int64_t(n) * dtypeBytes(b.dtype);
        EXPECT_LE(end, p.scratchFixedBytes + p.scratchPerSampleBytes * batch) << b.name << " is outside the arena";
        EXPECT_EQ((b.offset + b.perSampleOffset * batch) % 64, 0) << b.name << " is not 64-byte aligned";
      }
    }
    hparams_.assign(64, 0);
  }

  void set(int buffer, const std::vector<double> &v) {
    ASSERT_EQ(int64_t(v.size()), p_.buffers[size_t(buffer)].elements.at(batch_));
    for (size_t i = 0; i < v.size(); ++i) cell(buffer, int64_t(i)) = v[i];
  }
  void set(const std::string &name, const std::vector<double> &v) { set(bufferNamed(p_, name), v); }
  std::vector<double> get(int buffer) {
    std::vector<double> v(size_t(p_.buffers[size_t(buffer)].elements.at(batch_)));
    for (size_t i = 0; i < v.size(); ++i) v[i] = cell(buffer, int64_t(i));
    return v;
  }
  std::vector<double> get(const std::string &name) { return get(bufferNamed(p_, name)); }
  void hparam(int slot, double v) { hparams_[size_t(slot)] = v; }

  void call(const std::string &name) {
    for (const Function &f : p_.functions)
      if (f.name == name) {
        for (const Step &s : f.steps) {
          if (const Gemm *g = std::get_if<Gemm>(&s)) gemm(*g);
          else kernel(std::get<Kernel>(s));
        }
        return;
      }
    ADD_FAILURE() << "no function " << name;
  }

private:
  const Program &p_;
  int64_t batch_;
  bool planned_;
  std::vector<double> state_, scratch_, hparams_;
  std::vector<std::vector<double>> io_, separate_;

  double &cell(int buffer, int64_t i) {
    const Buffer &b = p_.buffers[size_t(buffer)];
    int64_t n = b.elements.at(batch_), width = dtypeBytes(b.dtype) / 4;
    if (i < 0 || i >= n) throw std::out_of_range(b.name + "[" + std::to_string(i) + "] of " + std::to_string(n));
    switch (b.region) {
    case Region::State: return state_.at(size_t(b.offset / 4 + i * width));
    case Region::Io: return io_.at(size_t(b.slot)).at(size_t(i));
    case Region::Scratch:
      if (!planned_) return separate_[size_t(buffer)].at(size_t(i));
      return scratch_.at(size_t((b.offset + b.perSampleOffset * batch_) / 4 + i * width));
    }
    throw std::logic_error("region");
  }

  void gemm(const Gemm &g) {
    int64_t m = g.m.at(batch_), n = g.n.at(batch_), k = g.k.at(batch_);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double sum = 0;
        for (int64_t r = 0; r < k; ++r) {
          double a = cell(g.a, g.offsetA + (g.transA ? r * g.lda + i : i * g.lda + r));
          double b = cell(g.b, g.offsetB + (g.transB ? j * g.ldb + r : r * g.ldb + j));
          sum += a * b;
        }
        double &c = cell(g.c, g.offsetC + i * g.ldc + j);
        c = g.alpha * sum + (g.beta != 0 ? g.beta * c : 0);
      }
  }

  // One domain point: expressions are evaluated on demand, every store's
  // index and value before the first store is made.
  struct Point {
    const Kernel &k;
    std::vector<int64_t> vars;
    std::vector<double> value;
    std::vector<char> known;
    double acc = 0;
    void forget() { known.assign(k.exprs.size(), 0); }
  };

  double eval(Point &pt, int e) {
    if (pt.known[size_t(e)]) return pt.value[size_t(e)];
    const Expr &x = pt.k.exprs[size_t(e)];
    EXPECT_LT(x.a, e);
    EXPECT_LT(x.b, e);
    EXPECT_LT(x.c, e);
    auto A = [&] { return eval(pt, x.a); };
    auto B = [&] { return eval(pt, x.b); };
    auto I = [&](double v) {
      EXPECT_EQ(v, std::floor(v)) << "a non-integer index in " << pt.k.name;
      return int64_t(v);
    };
    double v = 0;
    switch (x.op) {
    case ExprOp::ConstF: v = x.f; break;
    case ExprOp::ConstI: v = double(x.i); break;
    case ExprOp::Var: v = double(pt.vars.at(size_t(x.i))); break;
    case ExprOp::HParam: v = hparams_.at(size_t(x.i)); break;
    case ExprOp::Batch: v = double(batch_); break;
    case ExprOp::Acc: v = pt.acc; break;
    case ExprOp::Load: v = cell(x.buffer, I(A())); break;
    case ExprOp::Neg: v = -A(); break;
    case ExprOp::Exp: v = std::exp(A()); break;
    case ExprOp::Log: v = std::log(A()); break;
    case ExprOp::Sqrt: v = std::sqrt(A()); break;
    case ExprOp::Tanh: v = std::tanh(A()); break;
    case ExprOp::Cos: v = std::cos(A()); break;
    case ExprOp::Floor: v = std::floor(A()); break;
    case ExprOp::Abs: v = std::fabs(A()); break;
    case ExprOp::FAdd: v = A() + B(); break;
    case ExprOp::FSub: v = A() - B(); break;
    case ExprOp::FMul: v = A() * B(); break;
    case ExprOp::FDiv: v = A() / B(); break;
    case ExprOp::FMin: v = std::min(A(), B()); break;
    case ExprOp::FMax: v = std::max(A(), B()); break;
    case ExprOp::FPow: v = std::pow(A(), B()); break;
    case ExprOp::FLess: v = A() < B() ? 1 : 0; break;
    case ExprOp::Select: v = A() != 0 ? B() : eval(pt, x.c); break;
    case ExprOp::IAdd: v = double(I(A()) + I(B())); break;
    case ExprOp::IMul: v = double(I(A()) * I(B())); break;
    case ExprOp::IDiv: v = double(I(A()) / I(B())); break;
    case ExprOp::IMod: v = double(I(A()) % I(B())); break;
    case ExprOp::IMin: v = double(std::min(I(A()), I(B()))); break;
    case ExprOp::IMax: v = double(std::max(I(A()), I(B()))); break;
    case ExprOp::IEq: v = I(A()) == I(B()) ? 1 : 0; break;
    case ExprOp::ToFloat: v = A(); break;
    case ExprOp::Rand: v = rand01(x.i, I(A())); break;
    }
    pt.known[size_t(e)] = 1;
    return pt.value[size_t(e)] = v;
  }

  void kernel(const Kernel &k) {
    Point pt{k, std::vector<int64_t>(k.domain.size() + 1, 0), std::vector<double>(k.exprs.size()), {}};
    std::vector<int64_t> ext;
    for (const Extent &e : k.domain) ext.push_back(e.at(batch_));
    for (int64_t e : ext)
      if (e == 0) return;
    for (;;) {
      pt.acc = 0;
      if (k.reduces) {
        double acc = k.init;
        for (int64_t r = 0; r < k.reduceExtent.at(batch_); ++r) {
          pt.vars.back() = r;
          pt.forget();
          double v = eval(pt, k.reduceValue);
          acc = k.combine == Kernel::Max ? std::max(acc, v) : acc + v;
        }
        pt.acc = acc;
      }
      pt.forget();
      std::vector<std::pair<int64_t, double>> writes;
      for (const Store &s : k.stores) writes.push_back({int64_t(eval(pt, s.index)), eval(pt, s.value)});
      for (size_t i = 0; i < k.stores.size(); ++i) {
        double &c = cell(k.stores[i].buffer, writes[i].first);
        c = k.stores[i].accumulate ? c + writes[i].second : writes[i].second;
      }
      size_t d = ext.size();
      while (d > 0 && ++pt.vars[d - 1] == ext[d - 1]) pt.vars[--d] = 0;
      if (d == 0) return;
    }
  }
};

// The lowered program, and the same after fusion and planning.
struct Compiled {
  Program lowered, planned;
};
Compiled compile(const graph::Module &m) {
  EXPECT_EQ(graph::verify(m), "");
  Compiled c;
  c.lowered = lowerToLoops(m);
  c.planned = c.lowered;
  fuseKernels(c.planned);
  planMemory(c.planned);
  return c;
}

size_t kernelCount(const Program &p, const std::string &fn = "train_step") {
  for (const Function &f : p.functions)
    if (f.name == fn) return f.steps.size();
  return 0;
}
std::vector<std::string> stepNames(const Program &p, const std::string &fn = "train_step") {
  std::vector<std::string> names;
  for (const Function &f : p.functions)
    if (f.name == fn)
      for (const Step &s : f.steps)
        names.push_back(std::holds_alternative<Gemm>(s) ? std::get<Gemm>(s).name : std::get<Kernel>(s).name);
  return names;
}
const Kernel &kernelNamed(const Program &p, const std::string &name) {
  for (const Function &f : p.functions)
    for (const Step &s : f.steps)
      if (const Kernel *k = std::get_if<Kernel>(&s); k && k->name == name) return *k;
  throw std::runtime_error("no kernel " + name);
}

std::vector<double> ramp(size_t n, double scale, double shift) {
  std::vector<double> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = std::sin(double(i) * 1.3 + shift) * scale;
  return v;
}

void expectNear(const std::vector<double> &got, const std::vector<double> &want, double tol = 1e-12) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
}

// Runs `fn` of the lowered and of the fused and planned program on the
// same inputs, checking each.
using Setup = std::function<void(Machine &)>;
void runBoth(const Compiled &c, int64_t batch, const Setup &setup, const std::function<void(Machine &)> &check,
             const std::string &fn = "train_step") {
  for (bool planned : {false, true}) {
    SCOPED_TRACE(planned ? "fused and planned" : "as lowered");
    const Program &p = planned ? c.planned : c.lowered;
    Machine m(p, batch, planned);
    setup(m);
    m.call(fn);
    check(m);
  }
}

// --- tests ---

TEST(LowerToLoops, StateAndIoLayout) {
  Builder g({"train_step", "eval_step"});
  int w = g.state("w", {3, 5});  // 60 bytes → 64
  int b = g.state("b", {5});     // at 64
  g.state("m", {17});            // at 128, 68 bytes → 256 in all
  for (size_t fn : {0, 1}) {
    g.fn = fn;
    int x = g.input({kBatch, 3});
    g.label({kBatch});
    int pw = g.param(w);
    int mm = g.matmul(x, pw, false, false, {kBatch, 5});
    int pb = g.param(b);
    int y = g.binary(OpKind::Add, mm, pb);
    int loss = g.reduce(OpKind::ReduceMean, y, {0, 1}, false);
    if (fn == 1) g.output(y, "logits");
    g.output(loss, "loss");
  }
  Program p = lowerToLoops(g.m);
  EXPECT_EQ(p.stateBytes, 256);
  EXPECT_EQ(p.buffers[0].offset, 0);
  EXPECT_EQ(p.buffers[1].offset, 64);
  EXPECT_EQ(p.buffers[2].offset, 128);
  EXPECT_EQ(p.ioSlots, 4);
  // The same io buffer in every function; slots in order of first appearance.
  const Buffer &features = p.buffers[size_t(bufferNamed(p, "features"))];
  EXPECT_EQ(features.slot, 0);
  EXPECT_EQ(features.elements, Extent::batch(3));
  const Buffer &label = p.buffers[size_t(bufferNamed(p, "label"))];
  EXPECT_EQ(label.slot, 1);
  EXPECT_EQ(label.dtype, DType::I64);
  EXPECT_EQ(p.buffers[size_t(bufferNamed(p, "loss"))].slot, 2);
  EXPECT_EQ(p.buffers[size_t(bufferNamed(p, "logits"))].slot, 3);
  EXPECT_EQ(p.buffers[size_t(bufferNamed(p, "logits"))].elements, Extent::batch(5));
  int ios = 0;
  for (const Buffer &buf : p.buffers) ios += buf.region == Region::Io;
  EXPECT_EQ(ios, 4);
  // The loss reduction stores straight into its io slot.
  const Kernel &mean = kernelNamed(p, "reduce_mean_6");
  EXPECT_EQ(mean.stores[0].buffer, bufferNamed(p, "loss"));
  EXPECT_EQ(mean.reduceExtent, Extent::batch(5));
  const Gemm &mm = std::get<Gemm>(p.functions[0].steps[0]);
  EXPECT_EQ(mm.name, "matmul_3");
  EXPECT_EQ(mm.m, Extent::batch(1));
  EXPECT_EQ(mm.n, Extent::of(5));
  EXPECT_EQ(mm.k, Extent::of(3));
  EXPECT_EQ(mm.lda, 3);
  EXPECT_EQ(mm.ldb, 5);
  EXPECT_EQ(mm.ldc, 5);
}

TEST(LowerToLoops, LinearReluDropoutFusesIntoOneKernelWritingTheOutput) {
  Builder g;
  int w = g.state("w", {4, 3}), b = g.state("b", {3});
  int x = g.input({kBatch, 4});
  int pw = g.param(w);
  int mm = g.matmul(x, pw, false, false, {kBatch, 3});
  int pb = g.param(b);
  int a = g.binary(OpKind::Add, mm, pb);
  int r = g.unary(OpKind::Relu, a);
  int p = g.hparam("model.p", 0.25);
  int d = g.dropout(OpKind::Dropout, r, p, 9);
  g.output(d, "logits");
  Compiled c = compile(g.m);
  EXPECT_EQ(stepNames(c.lowered), (std::vector<std::string>{"matmul_2", "add_4", "relu_5", "dropout_7"}));
  EXPECT_EQ(stepNames(c.planned), (std::vector<std::string>{"matmul_2", "fused_add_4_relu_5_dropout_7"}));
  const Kernel &k = kernelNamed(c.planned, "fused_add_4_relu_5_dropout_7");
  EXPECT_TRUE(k.parallel);
  EXPECT_EQ(k.domain, (std::vector<Extent>{Extent::batch(1), Extent::of(3)}));
  EXPECT_EQ(c.planned.buffers[size_t(k.stores[0].buffer)].name, "logits");
  // Only the GEMM's result remains in scratch: 12 bytes a sample, aligned.
  EXPECT_EQ(c.planned.scratchFixedBytes, 0);
  EXPECT_EQ(c.planned.scratchPerSampleBytes, 64);
  EXPECT_EQ(c.lowered.buffers[size_t(bufferNamed(c.lowered, "train_step/add_4"))].elements, Extent::batch(3));
  EXPECT_EQ(c.planned.buffers[size_t(bufferNamed(c.planned, "train_step/add_4"))].elements, Extent::of(0));

  const int64_t batch = 5;
  std::vector<double> xs = ramp(20, 1.0, 0.1), ws = ramp(12, 0.8, 0.7), bs = ramp(3, 0.3, 2.0);
  runBoth(
      c, batch,
      [&](Machine &m) {
        m.set("features", xs);
        m.set("w", ws);
        m.set("b", bs);
        m.hparam(0, 0.25);
      },
      [&](Machine &m) {
        std::vector<double> want(15);
        int dropped = 0;
        for (int i = 0; i < 5; ++i)
          for (int j = 0; j < 3; ++j) {
            double s = bs[size_t(j)];
            for (int k = 0; k < 4; ++k) s += xs[size_t(i * 4 + k)] * ws[size_t(k * 3 + j)];
            bool drop = rand01(9, i * 3 + j) < 0.25;
            dropped += drop;
            want[size_t(i * 3 + j)] = drop ? 0 : std::max(s, 0.0) / 0.75;
          }
        EXPECT_GT(dropped, 0);
        expectNear(m.get("logits"), want);
      });
}

TEST(LowerToLoops, SoftmaxCrossEntropyReductions) {
  Builder g;
  int x = g.input({kBatch, 5});
  int y = g.label({kBatch});
  int mx = g.reduce(OpKind::ReduceMax, x, {1}, true);
  int sh = g.binary(OpKind::Sub, x, mx);
  int e = g.unary(OpKind::Exp, sh);
  int s = g.reduce(OpKind::ReduceSum, e, {1}, true);
  int logp = g.binary(OpKind::Sub, sh, g.unary(OpKind::Log, s));
  int pick = g.add(OpKind::PickColumn, {logp, y}, {kBatch});
  int loss = g.reduce(OpKind::ReduceMean, g.unary(OpKind::Neg, pick), {0}, false);
  g.output(loss, "loss");
  g.output(g.binary(OpKind::Div, e, s), "probs");
  Compiled c = compile(g.m);
  const Kernel &max = kernelNamed(c.lowered, "reduce_max_2");
  EXPECT_TRUE(max.reduces);
  EXPECT_EQ(max.combine, Kernel::Max);
  EXPECT_EQ(max.domain, std::vector<Extent>{Extent::batch(1)});
  EXPECT_EQ(max.reduceExtent, Extent::of(5));
  EXPECT_TRUE(max.parallel);
  const Kernel &mean = kernelNamed(c.lowered, "reduce_mean_10");
  EXPECT_TRUE(mean.domain.empty());
  EXPECT_EQ(mean.reduceExtent, Extent::batch(1));
  EXPECT_FALSE(mean.parallel);

  const int64_t batch = 4;
  std::vector<double> xs = ramp(20, 3.0, 0.0);
  std::vector<double> ys = {4, 0, 2, 2};
  runBoth(
      c, batch,
      [&](Machine &m) {
        m.set("features", xs);
        m.set("label", ys);
      },
      [&](Machine &m) {
        double total = 0;
        std::vector<double> probs(20);
        for (int i = 0; i < 4; ++i) {
          double mxv = -1e300, sum = 0;
          for (int j = 0; j < 5; ++j) mxv = std::max(mxv, xs[size_t(i * 5 + j)]);
          for (int j = 0; j < 5; ++j) sum += std::exp(xs[size_t(i * 5 + j)] - mxv);
          for (int j = 0; j < 5; ++j) probs[size_t(i * 5 + j)] = std::exp(xs[size_t(i * 5 + j)] - mxv) / sum;
          total += -(xs[size_t(i * 5 + int(ys[size_t(i)]))] - mxv - std::log(sum));
        }
        expectNear(m.get("loss"), {total / 4});
        expectNear(m.get("probs"), probs);
      });
}

TEST(LowerToLoops, ReductionsOverTheBatchAndInnerAxes) {
  Builder g;
  int x = g.input({kBatch, 3, 2});
  g.output(g.reduce(OpKind::ReduceSum, x, {0}, false), "sum0");
  g.output(g.reduce(OpKind::ReduceMean, x, {0}, false), "mean0");
  g.output(g.reduce(OpKind::ReduceMax, x, {0}, false), "max0");
  g.output(g.reduce(OpKind::ReduceSum, x, {1}, true), "sum1");
  g.output(g.reduce(OpKind::ReduceSum, x, {0, 2}, false), "sum02");
  g.output(g.reduce(OpKind::ReduceMean, x, {0, 1, 2}, false), "mean_all");
  Compiled c = compile(g.m);
  // Leading axes: zero, then accumulate rows in order.
  const Kernel &init = kernelNamed(c.lowered, "reduce_sum_1_init");
  EXPECT_EQ(init.domain, std::vector<Extent>{Extent::of(6)});
  const Kernel &acc = kernelNamed(c.lowered, "reduce_sum_1");
  EXPECT_FALSE(acc.reduces);
  EXPECT_FALSE(acc.parallel);
  EXPECT_TRUE(acc.stores[0].accumulate);
  EXPECT_EQ(acc.domain, (std::vector<Extent>{Extent::batch(1), Extent::of(6)}));
  EXPECT_TRUE(kernelNamed(c.lowered, "reduce_max_5").reduces);
  EXPECT_EQ(kernelNamed(c.lowered, "reduce_sum_9").reduceExtent, Extent::batch(2));

  const int64_t batch = 3;
  std::vector<double> xs = ramp(18, 2.0, 0.4);
  auto at = [&](int b, int i, int j) { return xs[size_t(b * 6 + i * 2 + j)]; };
  runBoth(
      c, batch, [&](Machine &m) { m.set("features", xs); }, [&](Machine &m) {
        std::vector<double> sum0(6, 0), max0(6, -1e300), mean0(6), sum1(6, 0), sum02(3, 0);
        double all = 0;
        for (int b = 0; b < 3; ++b)
          for (int i = 0; i < 3; ++i)
            for (int j = 0; j < 2; ++j) {
              sum0[size_t(i * 2 + j)] += at(b, i, j);
              max0[size_t(i * 2 + j)] = std::max(max0[size_t(i * 2 + j)], at(b, i, j));
              sum1[size_t(b * 2 + j)] += at(b, i, j);
              sum02[size_t(i)] += at(b, i, j);
              all += at(b, i, j);
            }
        for (size_t i = 0; i < 6; ++i) mean0[i] = sum0[i] / 3;
        expectNear(m.get("sum0"), sum0);
        expectNear(m.get("mean0"), mean0);
        expectNear(m.get("max0"), max0);
        expectNear(m.get("sum1"), sum1);
        expectNear(m.get("sum02"), sum02);
        expectNear(m.get("mean_all"), {all / 18});
      });
}

TEST(LowerToLoops, GatherScatterAndOneHot) {
  Builder g;
  int table = g.state("emb", {6, 3}), grad = g.state("emb.grad", {6, 3});
  int ids = g.label({kBatch});
  int rows = g.add(OpKind::Gather, {g.param(table), ids}, {kBatch, 3});
  g.output(rows, "rows");
  int dy = g.binary(OpKind::Mul, rows, g.constant(2));
  int sc = g.add(OpKind::ScatterAdd, {ids, dy}, {6, 3});
  g.assign(grad, sc);
  g.output(g.add(OpKind::OneHot, {ids}, {kBatch, 6}), "onehot");
  Compiled c = compile(g.m);
  // The gathered rows have two readers, so the output is a copy; the
  // doubling fuses into the sequential scatter; zeroing stays apart.
  EXPECT_EQ(stepNames(c.planned),
            (std::vector<std::string>{"gather_2", "output_3", "scatter_add_6_init", "fused_mul_5_scatter_add_6", "assign_7",
                                      "one_hot_8"}));
  EXPECT_FALSE(kernelNamed(c.planned, "fused_mul_5_scatter_add_6").parallel);

  const int64_t batch = 5;
  std::vector<double> ts = ramp(18, 1.0, 0.2), is = {3, 0, 3, 5, 3};
  runBoth(
      c, batch,
      [&](Machine &m) {
        m.set("emb", ts);
        m.set("label", is);
      },
      [&](Machine &m) {
        std::vector<double> rowsWant(15), gradWant(18, 0), hot(30, 0);
        for (int r = 0; r < 5; ++r) {
          int id = int(is[size_t(r)]);
          hot[size_t(r * 6 + id)] = 1;
          for (int d = 0; d < 3; ++d) {
            rowsWant[size_t(r * 3 + d)] = ts[size_t(id * 3 + d)];
            gradWant[size_t(id * 3 + d)] += 2 * ts[size_t(id * 3 + d)];
          }
        }
        expectNear(m.get("rows"), rowsWant);
        expectNear(m.get("emb.grad"), gradWant);
        expectNear(m.get("onehot"), hot);
      });
}

TEST(LowerToLoops, SgdUpdateFusesIntoOneInPlaceKernel) {
  Builder g;
  int w = g.state("w", {4, 3}), gw = g.state("w.grad", {4, 3});
  int pw = g.param(w);
  int lr = g.hparam("optimizer.lr", 0.1);
  int pg = g.param(gw);
  int step = g.binary(OpKind::Mul, lr, pg);
  g.assign(w, g.binary(OpKind::Sub, pw, step));
  Compiled c = compile(g.m);
  EXPECT_EQ(stepNames(c.lowered), (std::vector<std::string>{"mul_3", "sub_4", "assign_5"}));
  EXPECT_EQ(stepNames(c.planned), (std::vector<std::string>{"fused_mul_3_sub_4_assign_5"}));
  const Kernel &k = kernelNamed(c.planned, "fused_mul_3_sub_4_assign_5");
  EXPECT_EQ(k.stores[0].buffer, bufferNamed(c.planned, "w"));
  EXPECT_EQ(c.planned.scratchFixedBytes, 0);
  EXPECT_EQ(c.planned.scratchPerSampleBytes, 0);

  std::vector<double> ws = ramp(12, 1.0, 0.0), gs = ramp(12, 0.5, 1.0);
  runBoth(
      c, 2,
      [&](Machine &m) {
        m.set("w", ws);
        m.set("w.grad", gs);
        m.hparam(0, 0.1);
      },
      [&](Machine &m) {
        std::vector<double> want(12);
        for (size_t i = 0; i < 12; ++i) want[i] = ws[i] - 0.1 * gs[i];
        expectNear(m.get("w"), want);
      });
}

TEST(LowerToLoops, ParamReadAfterItsAssignIsSnapshotted) {
  Builder g;
  int w = g.state("w", {4});
  int old = g.param(w);
  g.assign(w, g.binary(OpKind::Add, old, g.constant(1)));
  g.output(g.binary(OpKind::Mul, old, g.constant(3)), "old3");
  Compiled c = compile(g.m);
  EXPECT_EQ(stepNames(c.lowered), (std::vector<std::string>{"param_0", "add_2", "assign_3", "mul_5"}));
  std::vector<double> ws = {1, 2, 3, 4};
  runBoth(
      c, 1, [&](Machine &m) { m.set("w", ws); }, [&](Machine &m) {
        expectNear(m.get("w"), {2, 3, 4, 5});
        expectNear(m.get("old3"), {3, 6, 9, 12});
      });
}

TEST(FuseKernels, KeepsAProducerWhoseInputIsOverwrittenBeforeTheConsumer) {
  Builder g;
  int w = g.state("w", {4});
  int e = g.unary(OpKind::Exp, g.param(w));
  int zero = g.constant(0);
  g.assign(w, g.add(OpKind::BroadcastTo, {zero}, {4}));
  g.output(g.unary(OpKind::Neg, e), "out");
  Compiled c = compile(g.m);
  EXPECT_EQ(stepNames(c.planned), (std::vector<std::string>{"exp_1", "assign_4", "neg_5"}));
  runBoth(
      c, 1, [&](Machine &m) { m.set("w", {0, 1, 2, 3}); }, [&](Machine &m) {
        expectNear(m.get("out"), {-1, -std::exp(1.0), -std::exp(2.0), -std::exp(3.0)});
        expectNear(m.get("w"), {0, 0, 0, 0});
      });
}

TEST(FuseKernels, KeepsATransposeIntoTheStateItReads) {
  Builder g;
  int w = g.state("w", {2, 2});
  g.assign(w, g.withInts(OpKind::Transpose, {g.param(w)}, {2, 2}, {1, 0}));
  Compiled c = compile(g.m);
  EXPECT_EQ(stepNames(c.planned), (std::vector<std::string>{"transpose_1", "assign_2"}));
  runBoth(
      c, 1, [&](Machine &m) { m.set("w", {1, 2, 3, 4}); }, [&](Machine &m) { expectNear(m.get("w"), {1, 3, 2, 4}); });
}

TEST(FuseKernels, MultiConsumerProducersStay) {
  Builder g;
  int x = g.input({kBatch, 8});
  int a = g.unary(OpKind::Exp, x);
  int b = g.unary(OpKind::Tanh, a);
  g.output(g.binary(OpKind::Add, a, b), "y");
  g.output(g.reduce(OpKind::ReduceSum, a, {1}, false), "s");
  Compiled c = compile(g.m);
  // exp has two readers (the add, the sum); tanh's only reader is the add.
  EXPECT_EQ(stepNames(c.planned), (std::vector<std::string>{"exp_1", "fused_tanh_2_add_3", "reduce_sum_5"}));
}

TEST(PlanMemory, InPlaceAndSharedOffsets) {
  Builder g;
  int x = g.input({kBatch, 8});
  int a = g.unary(OpKind::Exp, x);    // A: read by neg and add
  int b = g.unary(OpKind::Neg, a);    // B: read by add and the first sum
  int c2 = g.binary(OpKind::Add, a, b);  // A dies here: C takes its place
  g.output(g.reduce(OpKind::ReduceSum, b, {1}, false), "s1");
  g.output(g.reduce(OpKind::ReduceSum, c2, {1}, false), "s2");
  Compiled c = compile(g.m);
  ASSERT_EQ(kernelCount(c.planned), 5u);
  const Program &p = c.planned;
  const Buffer &A = p.buffers[size_t(bufferNamed(p, "train_step/exp_1"))];
  const Buffer &B = p.buffers[size_t(bufferNamed(p, "train_step/neg_2"))];
  const Buffer &C = p.buffers[size_t(bufferNamed(p, "train_step/add_3"))];
  EXPECT_EQ(C.aliasOf, bufferNamed(p, "train_step/exp_1"));
  EXPECT_EQ(B.aliasOf, -1);  // A is still read after neg
  EXPECT_EQ(C.perSampleOffset, A.perSampleOffset);
  EXPECT_EQ(A.perSampleOffset, 0);
  EXPECT_EQ(B.perSampleOffset, 64);
  EXPECT_EQ(B.offset, p.scratchFixedBytes);
  EXPECT_EQ(p.scratchFixedBytes, 0);
  EXPECT_EQ(p.scratchPerSampleBytes, 128);

  std::vector<double> xs = ramp(24, 1.0, 0.0);
  runBoth(
      c, 3, [&](Machine &m) { m.set("features", xs); }, [&](Machine &m) {
        std::vector<double> s1(3, 0), s2(3, 0);
        for (size_t i = 0; i < 24; ++i) {
          s1[i / 8] += -std::exp(xs[i]);
          s2[i / 8] += 0;  // exp(x) + (-exp(x))
        }
        expectNear(m.get("s1"), s1);
        expectNear(m.get("s2"), s2);
      });
}

TEST(PlanMemory, BuffersWithDisjointLifetimesShareBytes) {
  Builder g;
  int w = g.state("w", {4, 4}), x0 = g.state("x0", {4, 4});
  int h = g.param(x0);
  for (int i = 0; i < 3; ++i) h = g.matmul(h, g.param(w), false, false, {4, 4});  // 64 bytes each
  g.output(g.matmul(h, g.param(w), false, false, {4, 4}), "y");
  Compiled c = compile(g.m);
  const Program &p = c.planned;
  const Buffer &h1 = p.buffers[size_t(bufferNamed(p, "train_step/matmul_2"))];
  const Buffer &h2 = p.buffers[size_t(bufferNamed(p, "train_step/matmul_4"))];
  const Buffer &h3 = p.buffers[size_t(bufferNamed(p, "train_step/matmul_6"))];
  EXPECT_EQ(h1.offset, 0);
  EXPECT_EQ(h2.offset, 64);
  EXPECT_EQ(h3.offset, 0);  // h1 is dead by then
  EXPECT_EQ(h3.aliasOf, -1);  // a GEMM never writes over its operand
  EXPECT_EQ(p.scratchFixedBytes, 128);
  EXPECT_EQ(p.scratchPerSampleBytes, 0);
  std::vector<double> ws = ramp(16, 0.7, 0.0), xs = ramp(16, 1.0, 0.5);
  runBoth(
      c, 1,
      [&](Machine &m) {
        m.set("w", ws);
        m.set("x0", xs);
      },
      [&](Machine &m) {
        std::vector<double> v = xs;
        for (int step = 0; step < 4; ++step) {
          std::vector<double> n(16, 0);
          for (int i = 0; i < 4; ++i)
            for (int j = 0; j < 4; ++j)
              for (int k = 0; k < 4; ++k) n[size_t(i * 4 + j)] += v[size_t(i * 4 + k)] * ws[size_t(k * 4 + j)];
          v = n;
        }
        expectNear(m.get("y"), v, 1e-9);
      });
}

TEST(LowerToLoops, WeightGradientGemmTransposesOverTheBatch) {
  Builder g;
  int x = g.input({kBatch, 3});
  int dy = g.binary(OpKind::Mul, x, g.constant(2));  // stand-in for dy: [batch, 3]
  g.output(g.matmul(x, dy, true, false, {3, 3}), "dw");
  int w = g.state("w", {2, 3});
  g.output(g.matmul(x, g.param(w), false, true, {kBatch, 2}), "xwT");
  Compiled c = compile(g.m);
  const Gemm &dw = std::get<Gemm>(c.lowered.functions[0].steps[1]);
  EXPECT_TRUE(dw.transA);
  EXPECT_EQ(dw.m, Extent::of(3));
  EXPECT_EQ(dw.k, Extent::batch(1));
  EXPECT_EQ(dw.lda, 3);
  std::vector<double> xs = ramp(12, 1.0, 0.3), ws = ramp(6, 1.0, 0.9);
  runBoth(
      c, 4,
      [&](Machine &m) {
        m.set("features", xs);
        m.set("w", ws);
      },
      [&](Machine &m) {
        std::vector<double> want(9, 0), xw(8, 0);
        for (int b = 0; b < 4; ++b)
          for (int i = 0; i < 3; ++i) {
            for (int j = 0; j < 3; ++j) want[size_t(i * 3 + j)] += xs[size_t(b * 3 + i)] * 2 * xs[size_t(b * 3 + j)];
            for (int o = 0; o < 2; ++o) xw[size_t(b * 2 + o)] += xs[size_t(b * 3 + i)] * ws[size_t(o * 3 + i)];
          }
        expectNear(m.get("dw"), want);
        expectNear(m.get("xwT"), xw);
      });
}

TEST(LowerToLoops, ShapeOpsAndActivations) {
  Builder g;
  int x = g.input({kBatch, 2, 3});
  int bias = g.state("bias", {3});
  g.output(g.withInts(OpKind::Transpose, {x}, {kBatch, 3, 2}, {0, 2, 1}), "t");
  int cat = g.withInts(OpKind::Concat, {x, g.unary(OpKind::Neg, x)}, {kBatch, 4, 3}, {1});
  g.output(cat, "cat");
  int sl = g.withInts(OpKind::Slice, {cat}, {kBatch, 2, 3}, {1, 1});
  g.output(sl, "slice");
  g.output(g.add(OpKind::BroadcastTo, {g.param(bias)}, {kBatch, 2, 3}), "bcast");
  g.output(g.unary(OpKind::Gelu, x), "gelu");
  g.output(g.unary(OpKind::GeluGrad, x), "gelu_grad");
  g.output(g.unary(OpKind::Sigmoid, x), "sigmoid");
  g.output(g.unary(OpKind::Sign, g.binary(OpKind::Sub, x, g.constant(0.2))), "sign");
  g.output(g.unary(OpKind::Rsqrt, g.unary(OpKind::Square, x)), "rsqrt");
  g.output(g.add(OpKind::Select, {g.binary(OpKind::Less, x, g.constant(0)), x, g.unary(OpKind::Heaviside, x)},
                 {kBatch, 2, 3}),
           "select");
  // A reshape is a view: the flattened features are the features' buffer.
  int flat = g.add(OpKind::Reshape, {x}, {kBatch, 6});
  g.output(g.unary(OpKind::Abs, flat), "abs");
  Compiled c = compile(g.m);
  const int64_t batch = 2;
  std::vector<double> xs = ramp(12, 1.5, 0.3), bs = {0.5, -1, 2};
  auto gelu = [](double v) { return 0.5 * v * (1 + std::tanh(0.7978845608028654 * (v + 0.044715 * v * v * v))); };
  runBoth(
      c, batch,
      [&](Machine &m) {
        m.set("features", xs);
        m.set("bias", bs);
      },
      [&](Machine &m) {
        std::vector<double> t(12), cat(24), sl(12), bc(12), ge(12), gg(12), sg(12), sn(12), rs(12), se(12), ab(12);
        for (int b = 0; b < 2; ++b)
          for (int i = 0; i < 2; ++i)
            for (int j = 0; j < 3; ++j) {
              double v = xs[size_t(b * 6 + i * 3 + j)];
              size_t at = size_t(b * 6 + i * 3 + j);
              t[size_t(b * 6 + j * 2 + i)] = v;
              cat[size_t(b * 12 + i * 3 + j)] = v;
              cat[size_t(b * 12 + (i + 2) * 3 + j)] = -v;
              bc[at] = bs[size_t(j)];
              ge[at] = gelu(v);
              gg[at] = (gelu(v + 1e-6) - gelu(v - 1e-6)) / 2e-6;
              sg[at] = 1 / (1 + std::exp(-v));
              sn[at] = v > 0.2 ? 1 : v < 0.2 ? -1 : 0;
              rs[at] = 1 / std::fabs(v);
              se[at] = v < 0 ? v : (v > 0 ? 1 : 0);
              ab[at] = std::fabs(v);
            }
        for (int b = 0; b < 2; ++b)
          for (int i = 0; i < 2; ++i)
            for (int j = 0; j < 3; ++j) sl[size_t(b * 6 + i * 3 + j)] = cat[size_t(b * 12 + (i + 1) * 3 + j)];
        expectNear(m.get("t"), t);
        expectNear(m.get("cat"), cat);
        expectNear(m.get("slice"), sl);
        expectNear(m.get("bcast"), bc);
        expectNear(m.get("gelu"), ge);
        expectNear(m.get("gelu_grad"), gg, 1e-8);
        expectNear(m.get("sigmoid"), sg);
        expectNear(m.get("sign"), sn);
        expectNear(m.get("rsqrt"), rs, 1e-9);
        expectNear(m.get("select"), se);
        expectNear(m.get("abs"), ab);
      });
}

// A two-layer classifier's training step, backward pass written by hand:
// the gradients the program applies must match finite differences of the
// loss computed by its eval step.
TEST(LowerToLoops, MlpTrainingStepMatchesFiniteDifferences) {
  Builder g({"train_step", "eval_step"});
  int w1 = g.state("w1", {4, 5}), b1 = g.state("b1", {5}), w2 = g.state("w2", {5, 3}), b2 = g.state("b2", {3});
  struct Forward {
    int x, y, h, a, z, e, s, loss, pw2;
  };
  auto forward = [&]() {
    Forward f;
    f.x = g.input({kBatch, 4});
    f.y = g.label({kBatch});
    int pw1 = g.param(w1);
    int mm1 = g.matmul(f.x, pw1, false, false, {kBatch, 5});
    int pb1 = g.param(b1);
    f.h = g.binary(OpKind::Add, mm1, pb1);
    f.a = g.unary(OpKind::Relu, f.h);
    f.pw2 = g.param(w2);
    int mm2 = g.matmul(f.a, f.pw2, false, false, {kBatch, 3});
    int pb2 = g.param(b2);
    f.z = g.binary(OpKind::Add, mm2, pb2);
    int mx = g.reduce(OpKind::ReduceMax, f.z, {1}, true);
    int sh = g.binary(OpKind::Sub, f.z, mx);
    f.e = g.unary(OpKind::Exp, sh);
    f.s = g.reduce(OpKind::ReduceSum, f.e, {1}, true);
    int logs = g.unary(OpKind::Log, f.s);
    int logp = g.binary(OpKind::Sub, sh, logs);
    int pick = g.add(OpKind::PickColumn, {logp, f.y}, {kBatch});
    int nll = g.unary(OpKind::Neg, pick);
    f.loss = g.reduce(OpKind::ReduceMean, nll, {0}, false);
    g.output(f.loss, "loss");
    return f;
  };
  auto sgd = [&](int state, int grad) {
    int lr = g.hparam("optimizer.lr", 0.1);
    int p = g.param(state);
    int step = g.binary(OpKind::Mul, lr, grad);
    g.assign(state, g.binary(OpKind::Sub, p, step));
  };
  Forward f = forward();
  int probs = g.binary(OpKind::Div, f.e, f.s);
  int hot = g.add(OpKind::OneHot, {f.y}, {kBatch, 3});
  int diff = g.binary(OpKind::Sub, probs, hot);
  int batch = g.add(OpKind::BatchSize, {}, {});
  int dz = g.binary(OpKind::Div, diff, batch);
  int dw2 = g.matmul(f.a, dz, true, false, {5, 3});
  sgd(w2, dw2);  // before w2's forward value is read again: that read needs a copy
  int db2 = g.reduce(OpKind::ReduceSum, dz, {0}, false);
  sgd(b2, db2);
  int da = g.matmul(dz, f.pw2, false, true, {kBatch, 5});
  int gate = g.unary(OpKind::Heaviside, f.h);
  int dh = g.binary(OpKind::Mul, da, gate);
  int dw1 = g.matmul(f.x, dh, true, false, {4, 5});
  int db1 = g.reduce(OpKind::ReduceSum, dh, {0}, false);
  sgd(w1, dw1);
  sgd(b1, db1);
  g.fn = 1;
  forward();
  Compiled c = compile(g.m);
  const int64_t n = 6;
  // The forward w2 is copied before its update; every update is one kernel.
  EXPECT_NO_THROW(kernelNamed(c.lowered, "param_" + std::to_string(f.pw2)));
  int updates = 0;
  for (const Function &fn : c.planned.functions)
    for (const Step &st : fn.steps) {
      const Kernel *k = std::get_if<Kernel>(&st);
      if (!k || k->name.find("assign") == std::string::npos) continue;
      EXPECT_EQ(k->name.rfind("fused_mul_", 0), 0u) << k->name;
      ++updates;
    }
  EXPECT_EQ(updates, 4);
  if (getenv("LOOPS_TEST_DUMP")) std::cout << dumpPlan(c.planned, n);

  std::map<std::string, std::vector<double>> init = {
      {"w1", ramp(20, 0.6, 0.1)}, {"b1", ramp(5, 0.2, 0.5)}, {"w2", ramp(15, 0.7, 0.9)}, {"b2", ramp(3, 0.1, 1.7)}};
  std::vector<double> xs = ramp(24, 1.0, 0.3), ys = {0, 2, 1, 1, 0, 2};
  auto lossAt = [&](const Program &p, bool planned, const std::map<std::string, std::vector<double>> &weights) {
    Machine m(p, n, planned);
    for (auto &[name, v] : weights) m.set(name, v);
    m.set("features", xs);
    m.set("label", ys);
    m.call("eval_step");
    return m.get("loss")[0];
  };
  for (bool planned : {false, true}) {
    SCOPED_TRACE(planned ? "fused and planned" : "as lowered");
    const Program &p = planned ? c.planned : c.lowered;
    Machine m(p, n, planned);
    for (auto &[name, v] : init) m.set(name, v);
    m.set("features", xs);
    m.set("label", ys);
    m.hparam(0, 0.1);
    m.call("train_step");
    EXPECT_NEAR(m.get("loss")[0], lossAt(p, planned, init), 1e-12);
    for (auto &[name, v] : init) {
      std::vector<double> after = m.get(name);
      for (size_t i = 0; i < v.size(); ++i) {
        auto plus = init, minus = init;
        plus[name][i] += 1e-6;
        minus[name][i] -= 1e-6;
        double numeric = (lossAt(p, planned, plus) - lossAt(p, planned, minus)) / 2e-6;
        EXPECT_NEAR((v[i] - after[i]) / 0.1, numeric, 1e-7) << name << "[" << i << "]";
      }
    }
  }
}

TEST(LowerToLoops, DropoutGradientRedrawsTheForwardMask) {
  Builder g;
  int x = g.input({kBatch, 7});
  int p = g.hparam("model.p", 0.5);
  g.output(g.dropout(OpKind::Dropout, x, p, 4), "fwd");
  g.output(g.dropout(OpKind::DropoutGrad, g.binary(OpKind::Add, g.binary(OpKind::Mul, x, g.constant(0)), g.constant(1)), p, 4),
           "bwd");
  Compiled c = compile(g.m);
  std::vector<double> xs(21, 1.0);
  runBoth(
      c, 3,
      [&](Machine &m) {
        m.set("features", xs);
        m.hparam(0, 0.5);
      },
      [&](Machine &m) {
        std::vector<double> f = m.get("fwd"), b = m.get("bwd");
        int kept = 0;
        for (size_t i = 0; i < 21; ++i) {
          EXPECT_EQ(f[i], b[i]) << i;
          EXPECT_TRUE(f[i] == 0 || f[i] == 2) << f[i];
          kept += f[i] != 0;
        }
        EXPECT_GT(kept, 3);
        EXPECT_LT(kept, 18);
      });
}

TEST(LowerToLoops, ScalarsFromConstantsAndTheBatchSizeAreInline) {
  Builder g;
  int x = g.input({kBatch, 2});
  int one = g.constant(1);
  int p = g.hparam("model.p", 0.25);
  int keep = g.binary(OpKind::Sub, one, p);  // no kernel
  int total = g.reduce(OpKind::ReduceSum, g.binary(OpKind::Mul, x, keep), {0, 1}, false);
  g.output(g.binary(OpKind::Div, total, g.add(OpKind::BatchSize, {}, {})), "loss");
  Compiled c = compile(g.m);
  EXPECT_EQ(stepNames(c.lowered), (std::vector<std::string>{"mul_4", "reduce_sum_5", "div_7"}));
  std::vector<double> xs = {1, 2, 3, 4, 5, 6};
  runBoth(
      c, 3,
      [&](Machine &m) {
        m.set("features", xs);
        m.hparam(0, 0.25);
      },
      [&](Machine &m) { expectNear(m.get("loss"), {21 * 0.75 / 3}); });
}

TEST(LowerToLoops, CollectivesAreRejected) {
  Builder g;
  int x = g.input({kBatch, 2});
  g.output(g.add(OpKind::AllReduce, {x}, {kBatch, 2}), "y");
  try {
    lowerToLoops(g.m);
    FAIL() << "expected an error";
  } catch (const std::runtime_error &e) {
    EXPECT_STREQ(e.what(), "collective ops are lowered by the distributed backend");
  }
}

TEST(LoopsDump, PrintsLayoutAndSteps) {
  Builder g;
  int w = g.state("w", {4, 3});
  int x = g.input({kBatch, 4});
  int h = g.matmul(x, g.param(w), false, false, {kBatch, 3});
  int a = g.unary(OpKind::Exp, h);
  int b = g.binary(OpKind::Mul, a, a);
  g.output(g.binary(OpKind::Add, b, a), "y");
  g.output(g.reduce(OpKind::ReduceSum, a, {0}, false), "s");
  Compiled c = compile(g.m);
  // exp writes over the GEMM's result, which dies there; mul and add fuse
  // into one kernel that writes the io slot.
  std::string text = dumpPlan(c.planned, 32);
  EXPECT_EQ(text, dumpPlan(c.planned, 32));
  EXPECT_EQ(text,
            "plan: state 64 bytes, 4 io slots, scratch 0 + batch*64 bytes (2048 at batch 32)\n"
            "buffers:\n"
            "  %0  w                    state    f32  12       state+0\n"
            "  %1  features             io       f32  batch*4  io[0]\n"
            "  %2  y                    io       f32  batch*3  io[2]\n"
            "  %3  s                    io       f32  3        io[3]\n"
            "  %4  train_step/matmul_2  scratch  f32  batch*3  0 + batch*0  live train_step 0..1\n"
            "  %5  train_step/exp_3     scratch  f32  batch*3  0 + batch*0  in place of %4  live train_step 1..4\n"
            "train_step:\n"
            "  0 gemm matmul_2 m=batch n=3 k=4 A=%1 B=%0 C=%4 beta=0 lda=4 ldb=3 ldc=3\n"
            "  1 kernel exp_3 [batch, 3] reads %4 writes %5 parallel\n"
            "  2 kernel fused_mul_4_add_5 [batch, 3] reads %5 writes %2 parallel\n"
            "  3 kernel reduce_sum_7_init [3] writes %3 parallel\n"
            "  4 kernel reduce_sum_7 [batch, 3] reads %5 accumulates %3\n");
}

}  // namespace
}  // namespace mlc::loops
