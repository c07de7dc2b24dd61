// Checks the gradient rule of every differentiable graph op against central
// finite differences, through the whole pipeline: autodiff, lowering,
// fusion, memory planning and LLVM code run in the JIT.
#include "abi/plan.h"
#include "codegen/Codegen.h"
#include "loops/FuseKernels.h"
#include "loops/LowerToLoops.h"
#include "loops/PlanMemory.h"
#include "transform/Autodiff.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>

using namespace mlc;
using namespace mlc::graph;

namespace {

constexpr int64_t kBatchSize = 3;

// Builds a function node by node, computing broadcast shapes.
struct G {
  Module &m;
  Function &f;
  int add(OpKind op, std::vector<int> in, Shape s, std::vector<int64_t> ints = {}) {
    Node n;
    n.op = op;
    n.inputs = std::move(in);
    n.shape = std::move(s);
    n.ints = std::move(ints);
    return f.add(std::move(n));
  }
  const Shape &shape(int v) { return f[v].shape; }
  int un(OpKind op, int a) { return add(op, {a}, shape(a)); }
  int bin(OpKind op, int a, int b) {
    Shape s;
    EXPECT_TRUE(broadcastShapes(shape(a), shape(b), s));
    return add(op, {a, b}, s);
  }
  int constant(double x) {
    int id = add(OpKind::Const, {}, Shape{});
    f[id].scalar = x;
    return id;
  }
  int reduce(OpKind op, int a, std::vector<int64_t> axes, bool keep) {
    Shape s;
    for (size_t i = 0; i < shape(a).rank(); ++i) {
      bool r = std::find(axes.begin(), axes.end(), int64_t(i)) != axes.end();
      if (!r) s.dims.push_back(shape(a).dims[i]);
      else if (keep) s.dims.push_back(1);
    }
    int id = add(op, {a}, s, axes);
    f[id].keepDims = keep;
    return id;
  }
  int softmaxLog(int x) {
    int axis = int(shape(x).rank()) - 1;
    int shifted = bin(OpKind::Sub, x, reduce(OpKind::ReduceMax, x, {axis}, true));
    int sum = reduce(OpKind::ReduceSum, un(OpKind::Exp, shifted), {axis}, true);
    return bin(OpKind::Sub, shifted, un(OpKind::Log, sum));
  }
};

struct Case {
  std::string name;
  std::vector<Shape> params;  // parameters the gradient is taken for
  std::function<int(G &, const std::vector<int> &params, int features, int labels)> body;
  bool positive = false;       // parameters drawn from (0.5, 1.5) (log, sqrt)
  double tolerance = 2e-2;
};

class Harness {
public:
  explicit Harness(const Case &c) : c_(c) {}

  void run() {
    Module m;
    m.functions.push_back({"train_step", {}});
    Function &f = m.functions[0];
    G g{m, f};
    std::vector<int> params;
    for (size_t i = 0; i < c_.params.size(); ++i) {
      StateDecl s;
      s.name = "p" + std::to_string(i);
      s.shape = c_.params[i];
      int state = m.addState(s);
      int id = g.add(OpKind::Param, {}, s.shape);
      f[id].index = state;
      params.push_back(id);
    }
    int features = g.add(OpKind::Input, {}, Shape{{kBatch, 4}});
    f[features].name = "features";
    int labels = g.add(OpKind::Label, {}, Shape{{kBatch}});
    f[labels].dtype = DType::I64;
    f[labels].name = "label";
    int y = c_.body(g, params, features, labels);
    // Weight every output element differently so that errors cannot cancel.
    StateDecl w;
    w.name = "weights";
    w.shape = g.shape(y);
    ASSERT_FALSE(w.shape.batched()) << "use a reduction over the batch in the case body";
    int ws = m.addState(w);
    int wid = g.add(OpKind::Param, {}, w.shape);
    f[wid].index = ws;
    std::vector<int64_t> all;
    for (size_t i = 0; i < w.shape.rank(); ++i) all.push_back(int64_t(i));
    int loss = g.reduce(OpKind::ReduceSum, g.bin(OpKind::Mul, y, wid), all, false);
    int out = g.add(OpKind::Output, {loss}, Shape{});
    f[out].name = "loss";
    auto grads = transform::differentiate(m, f);
    for (const auto &pg : grads) {
      int o = g.add(OpKind::Output, {pg.grad}, Shape{});
      f[o].name = "grad" + std::to_string(pg.state);
    }
    ASSERT_EQ(verify(m), "");
    program_ = loops::lowerToLoops(m);
    loops::fuseKernels(program_);
    loops::planMemory(program_);
    std::string error;
    jit_ = codegen::JitModule::create(program_, "{}", {}, {{"mlcrt_sgemm", reinterpret_cast<void *>(&mlcrt_sgemm)}, {"mlcrt_parallel_for", reinterpret_cast<void *>(&mlcrt_parallel_for)}},
                                      error);
    ASSERT_TRUE(jit_) << error;
    allocate(m);
    check(m, params, grads);
  }

private:
  float rand01() {
    seed_ = seed_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return float((seed_ >> 40) & 0xffffff) / float(1 << 24);
  }

  void allocate(const Module &m) {
    state_.assign(size_t(program_.stateBytes) / 4 + 16, 0.f);
    scratch_.assign(size_t(program_.scratchFixedBytes + program_.scratchPerSampleBytes * kBatchSize) / 4 + 16, 0.f);
    io_.assign(size_t(program_.ioSlots), {});
    ioPtrs_.assign(size_t(program_.ioSlots), nullptr);
    for (const loops::Buffer &b : program_.buffers)
      if (b.region == loops::Region::Io) {
        io_[size_t(b.slot)].assign(size_t(b.elements.at(kBatchSize)) * 2 + 2, 0);
        ioPtrs_[size_t(b.slot)] = io_[size_t(b.slot)].data();
        ioNames_[b.name] = b.slot;
      }
    for (const loops::Buffer &b : program_.buffers)
      if (b.region == loops::Region::State) stateOffsets_[b.name] = b.offset;
    for (size_t i = 0; i < m.states.size(); ++i) {
      float *p = stateOf(m, int(i));
      for (int64_t k = 0; k < m.states[i].shape.elements(1); ++k)
        p[k] = c_.positive ? 0.5f + rand01() : rand01() * 2 - 1;
    }
    if (ioNames_.count("features")) {
      float *x = reinterpret_cast<float *>(ioPtrs_[size_t(ioNames_["features"])]);
      for (int64_t k = 0; k < kBatchSize * 4; ++k) x[k] = rand01() * 2 - 1;
    }
    if (ioNames_.count("label")) {
      int64_t *l = reinterpret_cast<int64_t *>(ioPtrs_[size_t(ioNames_["label"])]);
      for (int64_t k = 0; k < kBatchSize; ++k) l[k] = (k * 2 + 1) % 3;  // ids of 3 classes or 4 rows
    }
  }

  float *stateOf(const Module &m, int state) {
    return reinterpret_cast<float *>(reinterpret_cast<char *>(state_.data()) + stateOffsets_.at(m.states[size_t(state)].name));
  }

  double loss() {
    mlc_step_ctx ctx{reinterpret_cast<char *>(state_.data()), reinterpret_cast<char *>(scratch_.data()), ioPtrs_.data(),
                     hparams_, kBatchSize, 7, 0};
    jit_->plan()->variants[0].train_step(&ctx);
    return *reinterpret_cast<float *>(ioPtrs_[size_t(ioNames_.at("loss"))]);
  }

  void check(const Module &m, const std::vector<int> &params, const std::vector<transform::ParamGrad> &grads) {
    loss();
    std::map<int, std::vector<float>> analytic;
    for (const auto &pg : grads) {
      const float *g = reinterpret_cast<const float *>(ioPtrs_[size_t(ioNames_.at("grad" + std::to_string(pg.state)))]);
      analytic[pg.state].assign(g, g + m.states[size_t(pg.state)].shape.elements(1));
    }
    for (size_t i = 0; i < params.size(); ++i) {
      int state = int(i);
      ASSERT_TRUE(analytic.count(state)) << c_.name << ": no gradient for parameter " << i;
      float *p = stateOf(m, state);
      for (size_t k = 0; k < analytic[state].size(); ++k) {
        const float eps = 1e-2f;
        float saved = p[k];
        p[k] = saved + eps;
        double up = loss();
        p[k] = saved - eps;
        double down = loss();
        p[k] = saved;
        double numeric = (up - down) / (2 * eps);
        double got = analytic[state][k];
        EXPECT_NEAR(got, numeric, c_.tolerance * std::max(1.0, std::fabs(numeric)))
            << c_.name << ": parameter " << i << " element " << k;
      }
    }
  }

  const Case &c_;
  loops::Program program_;
  std::unique_ptr<codegen::JitModule> jit_;
  std::vector<float> state_, scratch_;
  std::vector<std::vector<int64_t>> io_;
  std::vector<void *> ioPtrs_;
  std::map<std::string, int> ioNames_;
  std::map<std::string, int64_t> stateOffsets_;
  float hparams_[4] = {0.25f, 0, 0, 0};
  uint64_t seed_ = 12345;
};

using P = const std::vector<int> &;
Shape s23{{2, 3}}, s3{{3}}, s34{{3, 4}}, s4{{4}};

std::vector<Case> cases() {
  auto unary = [](OpKind op, bool positive = false) {
    return Case{spelling(op), {s23}, [op](G &g, P p, int, int) { return g.un(op, p[0]); }, positive};
  };
  auto binary = [](OpKind op, Shape b, bool positive = false) {
    return Case{std::string(spelling(op)) + "/broadcast" + toString(b), {s23, b},
                [op](G &g, P p, int, int) { return g.bin(op, p[0], p[1]); }, positive};
  };
  std::vector<Case> all = {
      unary(OpKind::Neg), unary(OpKind::Relu), unary(OpKind::Gelu), unary(OpKind::Tanh), unary(OpKind::Sigmoid),
      unary(OpKind::Exp), unary(OpKind::Log, true), unary(OpKind::Sqrt, true), unary(OpKind::Rsqrt, true),
      unary(OpKind::Square), unary(OpKind::Abs),
      binary(OpKind::Add, s3), binary(OpKind::Add, s23), binary(OpKind::Sub, s3), binary(OpKind::Mul, s3),
      binary(OpKind::Mul, Shape{{2, 1}}), binary(OpKind::Div, s3, true), binary(OpKind::Min, s23), binary(OpKind::Max, s3),
      {"select", {s23, s23},
       [](G &g, P p, int, int) { return g.add(OpKind::Select, {g.bin(OpKind::Less, p[0], p[1]), p[0], p[1]}, s23); }},
      {"dropout", {s23},
       [](G &g, P p, int, int) {
         int hp = g.add(OpKind::HParam, {}, Shape{});
         g.f[hp].index = 0;
         g.m.hparam("p", 0.25);
         int d = g.add(OpKind::Dropout, {p[0], hp}, s23);
         g.f[d].index = 3;
         return d;
       }},
      {"reduce_sum/rows", {s23}, [](G &g, P p, int, int) { return g.reduce(OpKind::ReduceSum, p[0], {1}, false); }},
      {"reduce_sum/cols", {s23}, [](G &g, P p, int, int) { return g.reduce(OpKind::ReduceSum, p[0], {0}, true); }},
      {"reduce_mean", {s23}, [](G &g, P p, int, int) { return g.reduce(OpKind::ReduceMean, p[0], {1}, true); }},
      {"reduce_max", {s23}, [](G &g, P p, int, int) { return g.reduce(OpKind::ReduceMax, p[0], {1}, false); }},
      {"reshape", {s23}, [](G &g, P p, int, int) { return g.add(OpKind::Reshape, {p[0]}, Shape{{3, 2}}); }},
      {"transpose", {s23}, [](G &g, P p, int, int) { return g.add(OpKind::Transpose, {p[0]}, Shape{{3, 2}}, {1, 0}); }},
      {"concat", {s23, Shape{{2, 2}}}, [](G &g, P p, int, int) { return g.add(OpKind::Concat, {p[0], p[1]}, Shape{{2, 5}}, {1}); }},
      {"slice", {s34}, [](G &g, P p, int, int) { return g.add(OpKind::Slice, {p[0]}, Shape{{3, 2}}, {1, 1}); }},
      {"broadcast_to", {s3}, [](G &g, P p, int, int) { return g.add(OpKind::BroadcastTo, {p[0]}, s23); }},
      {"matmul", {s23, s34}, [](G &g, P p, int, int) { return g.add(OpKind::MatMul, {p[0], p[1]}, Shape{{2, 4}}, {0, 0}); }},
      {"matmul/transB", {s23, Shape{{4, 3}}}, [](G &g, P p, int, int) { return g.add(OpKind::MatMul, {p[0], p[1]}, Shape{{2, 4}}, {0, 1}); }},
      {"matmul/transA", {Shape{{3, 2}}, s34}, [](G &g, P p, int, int) { return g.add(OpKind::MatMul, {p[0], p[1]}, Shape{{2, 4}}, {1, 0}); }},
      {"linear/batched", {Shape{{4, 3}}, s3},
       [](G &g, P p, int x, int) {
         int y = g.bin(OpKind::Add, g.add(OpKind::MatMul, {x, p[0]}, Shape{{kBatch, 3}}, {0, 0}), p[1]);
         return g.reduce(OpKind::ReduceMean, g.un(OpKind::Tanh, y), {0}, false);
       }},
      {"gather", {Shape{{4, 3}}},
       [](G &g, P p, int, int labels) {
         int e = g.add(OpKind::Gather, {p[0], labels}, Shape{{kBatch, 3}});
         return g.reduce(OpKind::ReduceSum, g.un(OpKind::Square, e), {0}, false);
       }},
      {"cross_entropy", {s34},
       [](G &g, P p, int x, int labels) {
         int w = g.add(OpKind::Reshape, {p[0]}, Shape{{4, 3}});
         int logits = g.add(OpKind::MatMul, {x, w}, Shape{{kBatch, 3}}, {0, 0});
         int picked = g.add(OpKind::PickColumn, {g.softmaxLog(logits), labels}, Shape{{kBatch}});
         return g.reduce(OpKind::ReduceMean, g.un(OpKind::Neg, picked), {0}, false);
       }},
      {"layer_norm", {s34},
       [](G &g, P p, int, int) {
         int c = g.bin(OpKind::Sub, p[0], g.reduce(OpKind::ReduceMean, p[0], {1}, true));
         int var = g.reduce(OpKind::ReduceMean, g.un(OpKind::Square, c), {1}, true);
         return g.bin(OpKind::Mul, c, g.un(OpKind::Rsqrt, g.bin(OpKind::Add, var, g.constant(1e-5))));
       }},
  };
  return all;
}

class GradCheck : public ::testing::TestWithParam<Case> {};

TEST_P(GradCheck, MatchesFiniteDifferences) { Harness(GetParam()).run(); }

INSTANTIATE_TEST_SUITE_P(Ops, GradCheck, ::testing::ValuesIn(cases()), [](const auto &info) {
  std::string name = info.param.name;
  for (char &c : name)
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
});

}  // namespace
