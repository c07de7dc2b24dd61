// Graph → loop IR, one node at a time. Conventions the graph builder and
// the runtime rely on:
//  - State: one buffer per StateDecl, in declaration order, 64-byte aligned.
//  - Io: slot 0 "features" (Input), slot 1 "label" (Label), then one slot
//    per distinct Output name in order of first appearance (functions in
//    module order). Slots 0 and 1 are reserved even when unused.
//  - Scratch: one buffer per other value, named `<function>/<op>_<id>`.
//    Reshape is a view (the same buffer id); scalars built only from
//    constants, hyperparameters and the batch size are not stored at all
//    but recomputed inside each kernel that reads them.
//  - Param reads the state buffer in place; a Param value still read after
//    an Assign to its state is first copied (`param_<id>`), so node order
//    keeps dataflow semantics.
//  - A value whose only use is an Output is written straight into the io
//    buffer; otherwise Output and Assign are copy kernels, which fusion
//    later folds into elementwise producers.
#include "loops/LowerToLoops.h"

#include "loops/KernelBuilder.h"

#include <algorithm>
#include <limits>
#include <map>
#include <stdexcept>

namespace mlc::loops {
namespace {

using graph::kBatch;
using graph::Node;
using graph::OpCategory;
using graph::OpKind;
using graph::Shape;

constexpr int kFeaturesSlot = 0, kLabelSlot = 1, kFirstOutputSlot = 2;
constexpr int64_t kAlign = 64;

int64_t alignUp(int64_t n) { return (n + kAlign - 1) / kAlign * kAlign; }
DType dtypeOf(graph::DType t) { return t == graph::DType::I64 ? DType::I64 : DType::F32; }
Extent dimExtent(int64_t d) { return d == kBatch ? Extent::batch(1) : Extent::of(d); }
Extent elementsOf(const Shape &s) {
  return s.batched() ? Extent::batch(s.fixedElements()) : Extent::of(s.fixedElements());
}

std::vector<Extent> domainOf(const Shape &s) {
  std::vector<Extent> d;
  for (int64_t n : s.dims) d.push_back(dimExtent(n));
  return d;
}

// Row-major strides. The batch is only ever dims[0], whose extent no stride
// includes, so every stride is a fixed number.
std::vector<int64_t> stridesOf(const Shape &s) {
  std::vector<int64_t> st(s.rank());
  int64_t acc = 1;
  for (size_t d = s.rank(); d-- > 0;) {
    st[d] = acc;
    acc *= s.dims[d] == kBatch ? 1 : s.dims[d];
  }
  return st;
}

std::string opName(const Node &n, int id) { return std::string(graph::spelling(n.op)) + "_" + std::to_string(id); }

[[noreturn]] void fail(const std::string &what) { throw std::runtime_error("lowering to loops: " + what); }

// State and io buffers are shared by all functions, so they are laid out
// once for the module before any function is lowered.
struct Layout {
  Program program;
  std::vector<int> stateBuffer;
  std::map<std::string, int> ioBuffer;

  int addIo(const std::string &name, int slot, const Node &value) {
    auto it = ioBuffer.find(name);
    DType t = dtypeOf(value.dtype);
    Extent n = elementsOf(value.shape);
    if (it != ioBuffer.end()) {
      const Buffer &b = program.buffers[size_t(it->second)];
      if (b.dtype != t || !(b.elements == n)) fail("io `" + name + "` has different shapes in different functions");
      return it->second;
    }
    Buffer b;
    b.name = name;
    b.dtype = t;
    b.elements = n;
    b.region = Region::Io;
    b.slot = slot;
    return ioBuffer[name] = program.addBuffer(std::move(b));
  }
};

Layout layOut(const graph::Module &m) {
  Layout l;
  for (const graph::StateDecl &s : m.states) {
    Buffer b;
    b.name = s.name;
    b.elements = Extent::of(s.shape.fixedElements());
    b.region = Region::State;
    b.offset = l.program.stateBytes;
    l.program.stateBytes = alignUp(b.offset + b.elements.fixed * dtypeBytes(b.dtype));
    l.stateBuffer.push_back(l.program.addBuffer(std::move(b)));
  }
  for (const graph::Function &f : m.functions)
    for (const Node &n : f.nodes)
      if (n.op == OpKind::Input) l.addIo("features", kFeaturesSlot, n);
  for (const graph::Function &f : m.functions)
    for (const Node &n : f.nodes)
      if (n.op == OpKind::Label) l.addIo("label", kLabelSlot, n);
  int slots = kFirstOutputSlot;
  for (const graph::Function &f : m.functions)
    for (const Node &n : f.nodes) {
      if (n.op != OpKind::Output) continue;
      if (n.name == "features" || n.name == "label") fail("an output may not be named `" + n.name + "`");
      int slot = l.ioBuffer.count(n.name) ? l.program.buffers[size_t(l.ioBuffer[n.name])].slot : slots++;
      l.addIo(n.name, slot, f[n.inputs.at(0)]);
    }
  l.program.ioSlots = slots;
  return l;
}

bool isDropout(OpKind op) { return op == OpKind::Dropout || op == OpKind::DropoutGrad; }
bool isView(OpKind op) { return op == OpKind::Reshape; }

class FunctionLowering {
public:
  FunctionLowering(Layout &layout, const graph::Module &m, const graph::Function &f) : l_(layout), m_(m), f_(f) {}

  Function run() {
    out_.name = f_.name;
    analyse();
    for (int id = 0; id < int(f_.nodes.size()); ++id) lower(id);
    return std::move(out_);
  }

private:
  Layout &l_;
  const graph::Module &m_;
  const graph::Function &f_;
  Function out_;
  std::vector<int> buffer_;             // node → buffer; -1 for inline values and effects
  std::vector<char> inline_;            // recomputed in every reader, never stored
  std::vector<char> snapshot_;          // Params copied because an Assign overwrites them first
  std::vector<std::vector<int>> users_;

  const Node &node(int id) const { return f_[id]; }
  const Node &input(int id, size_t k) const { return f_[node(id).inputs.at(k)]; }
  int inputId(int id, size_t k) const { return node(id).inputs.at(k); }

  void analyse() {
    size_t n = f_.nodes.size();
    buffer_.assign(n, -1);
    inline_.assign(n, 0);
    snapshot_.assign(n, 0);
    users_.assign(n, {});
    for (int id = 0; id < int(n); ++id)
      for (int in : node(id).inputs) users_[size_t(in)].push_back(id);
    for (int id = 0; id < int(n); ++id) {
      const Node &x = node(id);
      bool allInline = !x.inputs.empty();
      for (int in : x.inputs) allInline = allInline && inline_[size_t(in)];
      if (x.op == OpKind::Const || x.op == OpKind::HParam || x.op == OpKind::BatchSize) inline_[size_t(id)] = 1;
      else if (graph::isElementwise(x.op) && !isDropout(x.op)) inline_[size_t(id)] = allInline;
      else if (x.op == OpKind::Reshape || x.op == OpKind::BroadcastTo || x.op == OpKind::Transpose ||
               x.op == OpKind::Slice)
        inline_[size_t(id)] = allInline;
    }
    // The last node that reads a value's buffer, through views.
    std::vector<int> lastRead(n, -1);
    for (int id = int(n); id-- > 0;)
      for (int u : users_[size_t(id)]) {
        int through = isView(node(u).op) ? std::max(u, lastRead[size_t(u)]) : u;
        lastRead[size_t(id)] = std::max(lastRead[size_t(id)], through);
      }
    for (int q = 0; q < int(n); ++q) {
      if (node(q).op != OpKind::Param) continue;
      for (int a = q + 1; a < lastRead[size_t(q)]; ++a)
        if (node(a).op == OpKind::Assign && node(a).index == node(q).index) snapshot_[size_t(q)] = 1;
    }
  }

  // --- buffers ---

  int newScratch(int id) {
    const Node &x = node(id);
    Buffer b;
    b.name = f_.name + "/" + opName(x, id);
    b.dtype = dtypeOf(x.dtype);
    b.elements = elementsOf(x.shape);
    return l_.program.addBuffer(std::move(b));
  }

  // Where a computed value goes: straight into the io buffer when its only
  // use is an Output (saves the copy), else a fresh scratch buffer.
  int destination(int id) {
    const std::vector<int> &u = users_[size_t(id)];
    int b = u.size() == 1 && node(u[0]).op == OpKind::Output ? l_.ioBuffer.at(node(u[0]).name) : newScratch(id);
    return buffer_[size_t(id)] = b;
  }

  // The buffer holding a value; an inline value is stored first (a GEMM
  // operand needs memory).
  int materialize(int id) {
    if (buffer_[size_t(id)] >= 0) return buffer_[size_t(id)];
    if (!inline_[size_t(id)]) fail(f_.name + ": %" + std::to_string(id) + " has no value");
    int b = buffer_[size_t(id)] = newScratch(id);
    KernelBuilder kb(opName(node(id), id), domainOf(node(id).shape));
    kb.store(b, rowMajorIndex(kb, kb.kernel().domain), inlineValue(kb, id));
    emit(kb, true);
    return b;
  }

  void emit(KernelBuilder &kb, bool parallel) {
    Kernel k = std::move(kb.kernel());
    k.parallel = parallel && !k.domain.empty();
    out_.steps.push_back(std::move(k));
  }

  // --- reading values inside a kernel ---

  // The value of node `id` at flat element `index` (in its own dtype).
  int valueAt(KernelBuilder &kb, int id, int index) {
    if (inline_[size_t(id)]) return inlineValue(kb, id);
    if (buffer_[size_t(id)] < 0) fail(f_.name + ": %" + std::to_string(id) + " has no buffer");
    return kb.load(buffer_[size_t(id)], index);
  }

  // The same as f32: integer tensors (labels) read by arithmetic convert.
  int valueF(KernelBuilder &kb, int id, int index) {
    int v = valueAt(kb, id, index);
    return node(id).dtype == graph::DType::I64 && !inline_[size_t(id)] ? kb.unary(ExprOp::ToFloat, v) : v;
  }

  // The index of `operand` read at the kernel's domain point, where Var(d)
  // runs over out.dims[d]: NumPy broadcasting aligns dimensions from the
  // right and a dimension of 1 is read at stride 0.
  int broadcastIndex(KernelBuilder &kb, const Shape &operand, const Shape &out) {
    if (operand.rank() > out.rank())
      fail("operand " + graph::toString(operand) + " has more dimensions than " + graph::toString(out));
    std::vector<int64_t> st = stridesOf(operand);
    std::vector<std::pair<int, int64_t>> terms;
    size_t lead = out.rank() - operand.rank();
    for (size_t j = 0; j < operand.rank(); ++j) {
      int64_t o = out.dims[lead + j], x = operand.dims[j];
      if (o == 1 || x == 1) continue;
      if (o != x) fail(graph::toString(operand) + " does not broadcast to " + graph::toString(out));
      terms.push_back({int(lead + j), st[j]});
    }
    return kb.affine(terms);
  }

  // A copy reads a value of the same shape as the destination, or one that
  // broadcasts to it, or (a reshaped view) one with the same elements.
  int copyValue(KernelBuilder &kb, int id, const Shape &out) {
    const Shape &s = node(id).shape;
    Shape b;
    bool broadcasts = graph::broadcastShapes(s, out, b) && b == out;
    int index = broadcasts ? broadcastIndex(kb, s, out) : rowMajorIndex(kb, kb.kernel().domain);
    if (!broadcasts && !(elementsOf(s) == elementsOf(out)))
      fail("cannot copy " + graph::toString(s) + " to " + graph::toString(out));
    return valueAt(kb, id, index);
  }

  int inlineValue(KernelBuilder &kb, int id) {
    const Node &x = node(id);
    switch (x.op) {
    case OpKind::Const: return kb.constF(x.scalar);
    case OpKind::HParam: return kb.hparam(x.index);
    case OpKind::BatchSize: return kb.unary(ExprOp::ToFloat, kb.batch());
    case OpKind::Reshape:
    case OpKind::BroadcastTo:
    case OpKind::Transpose:
    case OpKind::Slice: return inlineValue(kb, inputId(id, 0));
    default: break;
    }
    std::vector<int> operands;
    for (int in : x.inputs) operands.push_back(inlineValue(kb, in));
    return elementwise(kb, id, operands, -1);
  }

  // The scalar function of an elementwise node applied to `v` (its
  // operands' values); `counter` numbers the element for dropout's stream.
  int elementwise(KernelBuilder &kb, int id, const std::vector<int> &v, int counter) {
    const Node &x = node(id);
    auto c = [&](double f) { return kb.constF(f); };
    auto bin = [&](ExprOp op, int a, int b) { return kb.binary(op, a, b); };
    auto un = [&](ExprOp op, int a) { return kb.unary(op, a); };
    // gelu's tanh approximation: 0.5 x (1 + tanh(u)), u = √(2/π) (x + 0.044715 x³)
    constexpr double kSqrt2OverPi = 0.7978845608028654, kCubic = 0.044715;
    auto geluTanh = [&](int a) {
      int cube = bin(ExprOp::FMul, bin(ExprOp::FMul, a, a), a);
      int u = bin(ExprOp::FMul, c(kSqrt2OverPi), bin(ExprOp::FAdd, a, bin(ExprOp::FMul, c(kCubic), cube)));
      return un(ExprOp::Tanh, u);
    };
    switch (x.op) {
    case OpKind::Neg: return un(ExprOp::Neg, v[0]);
    case OpKind::Relu: return bin(ExprOp::FMax, v[0], c(0));
    case OpKind::Heaviside: return bin(ExprOp::FLess, c(0), v[0]);
    case OpKind::Gelu: {
      int t = geluTanh(v[0]);
      return bin(ExprOp::FMul, bin(ExprOp::FMul, c(0.5), v[0]), bin(ExprOp::FAdd, c(1), t));
    }
    case OpKind::GeluGrad: {
      // d/dx = 0.5 (1 + t) + 0.5 x (1 - t²) √(2/π) (1 + 3·0.044715 x²)
      int t = geluTanh(v[0]);
      int sech2 = bin(ExprOp::FSub, c(1), bin(ExprOp::FMul, t, t));
      int du = bin(ExprOp::FMul, c(kSqrt2OverPi),
                   bin(ExprOp::FAdd, c(1), bin(ExprOp::FMul, c(3 * kCubic), bin(ExprOp::FMul, v[0], v[0]))));
      int left = bin(ExprOp::FMul, c(0.5), bin(ExprOp::FAdd, c(1), t));
      int right = bin(ExprOp::FMul, bin(ExprOp::FMul, c(0.5), v[0]), bin(ExprOp::FMul, sech2, du));
      return bin(ExprOp::FAdd, left, right);
    }
    case OpKind::Tanh: return un(ExprOp::Tanh, v[0]);
    case OpKind::Sigmoid:
      return bin(ExprOp::FDiv, c(1), bin(ExprOp::FAdd, c(1), un(ExprOp::Exp, un(ExprOp::Neg, v[0]))));
    case OpKind::Exp: return un(ExprOp::Exp, v[0]);
    case OpKind::Log: return un(ExprOp::Log, v[0]);
    case OpKind::Sqrt: return un(ExprOp::Sqrt, v[0]);
    case OpKind::Rsqrt: return bin(ExprOp::FDiv, c(1), un(ExprOp::Sqrt, v[0]));
    case OpKind::Square: return bin(ExprOp::FMul, v[0], v[0]);
    case OpKind::Abs: return un(ExprOp::Abs, v[0]);
    case OpKind::Sign: return bin(ExprOp::FSub, bin(ExprOp::FLess, c(0), v[0]), bin(ExprOp::FLess, v[0], c(0)));
    case OpKind::Cos: return un(ExprOp::Cos, v[0]);
    case OpKind::Floor: return un(ExprOp::Floor, v[0]);
    case OpKind::Add: return bin(ExprOp::FAdd, v[0], v[1]);
    case OpKind::Sub: return bin(ExprOp::FSub, v[0], v[1]);
    case OpKind::Mul: return bin(ExprOp::FMul, v[0], v[1]);
    case OpKind::Div: return bin(ExprOp::FDiv, v[0], v[1]);
    case OpKind::Min: return bin(ExprOp::FMin, v[0], v[1]);
    case OpKind::Max: return bin(ExprOp::FMax, v[0], v[1]);
    case OpKind::Pow: return bin(ExprOp::FPow, v[0], v[1]);
    case OpKind::Less: return bin(ExprOp::FLess, v[0], v[1]);
    case OpKind::Select: return kb.select(v[0], v[1], v[2]);
    case OpKind::Dropout:
    case OpKind::DropoutGrad: {
      // Dropped where rand < p, so p = 0 keeps everything. The mask depends
      // only on (key, element), so the gradient redraws the same one.
      int dropped = bin(ExprOp::FLess, kb.rand(x.index, counter), v[1]);
      int kept = bin(ExprOp::FDiv, v[0], bin(ExprOp::FSub, c(1), v[1]));
      return kb.select(dropped, c(0), kept);
    }
    default: fail(std::string("`") + graph::spelling(x.op) + "` is not elementwise");
    }
  }

  // --- nodes ---

  void lower(int id) {
    const Node &x = node(id);
    if (inline_[size_t(id)]) return;
    switch (graph::category(x.op)) {
    case OpCategory::Source: return lowerSource(id);
    case OpCategory::Unary:
    case OpCategory::Binary:
    case OpCategory::Select: return lowerElementwise(id);
    case OpCategory::Reduce: return lowerReduce(id);
    case OpCategory::Shape: return lowerShape(id);
    case OpCategory::Linalg: return lowerMatMul(id);
    case OpCategory::Index: return lowerIndex(id);
    case OpCategory::Collective: throw std::runtime_error("collective ops are lowered by the distributed backend");
    case OpCategory::Effect: return lowerEffect(id);
    }
  }

  void lowerSource(int id) {
    const Node &x = node(id);
    switch (x.op) {
    case OpKind::Input: buffer_[size_t(id)] = l_.ioBuffer.at("features"); return;
    case OpKind::Label: buffer_[size_t(id)] = l_.ioBuffer.at("label"); return;
    case OpKind::Param: {
      int state = l_.stateBuffer.at(size_t(x.index));
      if (!snapshot_[size_t(id)]) {
        buffer_[size_t(id)] = state;
        return;
      }
      int b = newScratch(id);
      KernelBuilder kb(opName(x, id), domainOf(x.shape));
      int index = rowMajorIndex(kb, kb.kernel().domain);
      kb.store(b, index, kb.load(state, index));
      emit(kb, true);
      buffer_[size_t(id)] = b;
      return;
    }
    default: return;  // Const, HParam, BatchSize are inline
    }
  }

  void lowerElementwise(int id) {
    const Node &x = node(id);
    if (x.dtype != graph::DType::F32) fail(opName(x, id) + ": elementwise ops compute f32");
    int out = destination(id);
    KernelBuilder kb(opName(x, id), domainOf(x.shape));
    int index = rowMajorIndex(kb, kb.kernel().domain);
    std::vector<int> v;
    for (int in : x.inputs) v.push_back(valueF(kb, in, broadcastIndex(kb, node(in).shape, x.shape)));
    kb.store(out, index, elementwise(kb, id, v, index));
    emit(kb, true);
  }

  void lowerReduce(int id) {
    const Node &x = node(id);
    const Shape &s = input(id, 0).shape;
    int src = inputId(id, 0);
    int r = int(s.rank());
    std::vector<char> reduced(size_t(r), 0);
    for (int64_t a : x.ints) {
      if (a < 0 || a >= r) fail(opName(x, id) + ": axis out of range");
      reduced[size_t(a)] = 1;
    }
    int out = destination(id);
    std::vector<int64_t> st = stridesOf(s);
    bool mean = x.op == OpKind::ReduceMean, max = x.op == OpKind::ReduceMax;
    int k = int(std::count(reduced.begin(), reduced.end(), 1));
    bool suffix = k > 0 && std::all_of(reduced.end() - k, reduced.end(), [](char c) { return c; });
    bool prefix = k > 0 && k < r && std::all_of(reduced.begin(), reduced.begin() + k, [](char c) { return c; });

    // The reduced element count: a fixed number times the batch when the
    // batch is reduced.
    int64_t fixedCount = 1;
    for (int d = 0; d < r; ++d)
      if (reduced[size_t(d)] && s.dims[size_t(d)] != kBatch) fixedCount *= s.dims[size_t(d)];
    bool batchReduced = s.batched() && reduced[0];
    auto count = [&](KernelBuilder &kb) {
      int n = kb.constF(double(fixedCount));
      if (!batchReduced) return n;
      int b = kb.unary(ExprOp::ToFloat, kb.batch());
      return fixedCount == 1 ? b : kb.binary(ExprOp::FMul, b, n);
    };

    if (prefix && !max) {
      // Summing leading axes (a bias gradient over the batch): zero the
      // result, then add rows in order, with unit-stride inner loops and a
      // fixed summation order.
      Shape leading, trailing;
      leading.dims.assign(s.dims.begin(), s.dims.begin() + k);
      trailing.dims.assign(s.dims.begin() + k, s.dims.end());
      Extent rows = elementsOf(leading);
      int64_t cols = trailing.fixedElements();
      KernelBuilder init(opName(x, id) + "_init", {Extent::of(cols)});
      init.store(out, rowMajorIndex(init, init.kernel().domain), init.constF(0));
      emit(init, true);
      KernelBuilder kb(opName(x, id), {rows, Extent::of(cols)});
      int v = valueF(kb, src, rowMajorIndex(kb, kb.kernel().domain));
      if (mean) v = kb.binary(ExprOp::FDiv, v, count(kb));
      kb.store(out, kb.affine({{1, 1}}), v, true);
      emit(kb, false);
      return;
    }

    // Otherwise one reducing kernel: the kept axes are the domain, the
    // reduced ones one inner loop (contiguous when they are trailing).
    std::vector<Extent> domain;
    std::vector<std::pair<int, int64_t>> terms;
    for (int d = 0; d < r; ++d)
      if (!reduced[size_t(d)]) {
        terms.push_back({int(domain.size()), s.dims[size_t(d)] == 1 ? 0 : st[size_t(d)]});
        domain.push_back(dimExtent(s.dims[size_t(d)]));
      }
    int loop = int(domain.size());
    KernelBuilder kb(opName(x, id), domain);
    Kernel &kr = kb.kernel();
    kr.reduces = true;
    kr.combine = max ? Kernel::Max : Kernel::Sum;
    kr.init = max ? -std::numeric_limits<double>::infinity() : 0.0;
    kr.reduceExtent = batchReduced ? Extent::batch(fixedCount) : Extent::of(fixedCount);
    int index;
    if (suffix) {
      terms.push_back({loop, 1});
      index = kb.affine(terms);
    } else {
      // The reduction counter spans the reduced axes row-major; take it apart.
      index = kb.affine(terms);
      int64_t inner = 1;
      for (int d = r; d-- > 0;) {
        if (!reduced[size_t(d)]) continue;
        bool first = std::find(reduced.begin(), reduced.begin() + d, 1) == reduced.begin() + d;
        int at = inner == 1 ? kb.var(loop) : kb.binary(ExprOp::IDiv, kb.var(loop), kb.constI(inner));
        if (!first) at = kb.binary(ExprOp::IMod, at, kb.constI(s.dims[size_t(d)]));
        if (st[size_t(d)] != 1) at = kb.binary(ExprOp::IMul, at, kb.constI(st[size_t(d)]));
        index = kb.binary(ExprOp::IAdd, index, at);
        inner *= s.dims[size_t(d)] == kBatch ? 1 : s.dims[size_t(d)];
      }
    }
    kr.reduceValue = valueF(kb, src, index);
    int result = kb.acc();
    if (mean) result = kb.binary(ExprOp::FDiv, result, count(kb));
    kb.store(out, rowMajorIndex(kb, domain), result);
    emit(kb, true);
  }

  void lowerShape(int id) {
    const Node &x = node(id);
    const Shape &s = input(id, 0).shape;
    int src = inputId(id, 0);
    if (x.op == OpKind::Reshape) {
      buffer_[size_t(id)] = buffer_[size_t(src)];
      return;
    }
    int out = destination(id);
    std::vector<int64_t> st = stridesOf(s);
    if (x.op == OpKind::Concat) {
      int64_t axis = x.ints.at(0);
      if (axis == 0 && x.shape.batched()) fail(opName(x, id) + ": concatenating along the batch");
      std::vector<int64_t> ost = stridesOf(x.shape);
      int64_t offset = 0;
      for (size_t j = 0; j < x.inputs.size(); ++j) {
        const Shape &part = input(id, j).shape;
        KernelBuilder kb(opName(x, id) + "_" + std::to_string(j), domainOf(part));
        std::vector<std::pair<int, int64_t>> terms;
        for (size_t d = 0; d < part.rank(); ++d) terms.push_back({int(d), part.dims[d] == 1 ? 0 : ost[d]});
        int value = valueAt(kb, inputId(id, j), rowMajorIndex(kb, kb.kernel().domain));
        kb.store(out, kb.affine(terms, offset * ost[size_t(axis)]), value);
        emit(kb, true);
        offset += part.dims[size_t(axis)];
      }
      return;
    }
    KernelBuilder kb(opName(x, id), domainOf(x.shape));
    int index;
    if (x.op == OpKind::Transpose) {
      if (x.ints.size() != s.rank()) fail(opName(x, id) + ": the permutation does not match the rank");
      std::vector<std::pair<int, int64_t>> terms;
      for (size_t d = 0; d < x.ints.size(); ++d)
        terms.push_back({int(d), x.shape.dims[d] == 1 ? 0 : st[size_t(x.ints[d])]});
      index = kb.affine(terms);
    } else if (x.op == OpKind::Slice) {
      int64_t axis = x.ints.at(0), start = x.ints.at(1);
      std::vector<std::pair<int, int64_t>> terms;
      for (size_t d = 0; d < s.rank(); ++d) terms.push_back({int(d), x.shape.dims[d] == 1 ? 0 : st[d]});
      index = kb.affine(terms, start * st[size_t(axis)]);
    } else {  // BroadcastTo
      index = broadcastIndex(kb, s, x.shape);
    }
    kb.store(out, rowMajorIndex(kb, kb.kernel().domain), valueAt(kb, src, index));
    emit(kb, true);
  }

  // A matrix view of an operand: rows are every dimension but the last.
  struct Matrix {
    Extent rows;
    int64_t cols;
  };
  Matrix matrixOf(int id, const Node &mm) {
    const Shape &s = node(id).shape;
    if (s.rank() == 0 || s.dims.back() == kBatch) fail(opName(mm, id) + ": operand is not a matrix");
    Shape lead = s;
    lead.dims.pop_back();
    return {elementsOf(lead), s.dims.back()};
  }

  void lowerMatMul(int id) {
    const Node &x = node(id);
    bool transA = x.ints.at(0) != 0, transB = x.ints.at(1) != 0;
    Matrix a = matrixOf(inputId(id, 0), x), b = matrixOf(inputId(id, 1), x);
    Gemm g;
    g.name = opName(x, id);
    g.transA = transA;
    g.transB = transB;
    g.m = transA ? Extent::of(a.cols) : a.rows;
    g.k = transA ? a.rows : Extent::of(a.cols);
    g.n = transB ? b.rows : Extent::of(b.cols);
    Extent kb = transB ? Extent::of(b.cols) : b.rows;
    if (!(g.k == kb)) fail(g.name + ": inner dimensions differ");
    if (g.n.batched()) fail(g.name + ": a batched n is not a 2-D matrix product");
    Extent want{g.m.fixed * g.n.fixed, g.m.perBatch * g.n.fixed};
    if (!(elementsOf(x.shape) == want)) fail(g.name + ": result shape " + graph::toString(x.shape) + " is not m×n");
    g.a = materialize(inputId(id, 0));
    g.b = materialize(inputId(id, 1));
    g.c = destination(id);
    g.lda = a.cols;
    g.ldb = b.cols;
    g.ldc = g.n.fixed;
    out_.steps.push_back(g);
  }

  // An id outside the table must not read or write outside it: it is
  // clamped into [0, rows). The compiler checks that a data set's ids fit
  // the vocabulary (E0811); this keeps memory safe whatever the input.
  static int clampRow(KernelBuilder &kb, int row, int64_t rows) {
    return kb.binary(ExprOp::IMin, kb.binary(ExprOp::IMax, row, kb.constI(0)), kb.constI(rows - 1));
  }

  void lowerIndex(int id) {
    const Node &x = node(id);
    int out = destination(id);
    std::vector<int64_t> ost = stridesOf(x.shape);
    // Var(d) for every dimension but the last; ids and labels have exactly those.
    auto leading = [&](KernelBuilder &kb, int of) { return broadcastIndex(kb, node(of).shape, lead(x.shape, of)); };
    switch (x.op) {
    case OpKind::Gather: {  // (table[V, D], ids[...]) -> [..., D]
      int table = inputId(id, 0), ids = inputId(id, 1);
      int64_t width = node(table).shape.dims.back();
      requireIds(ids);
      KernelBuilder kb(opName(x, id), domainOf(x.shape));
      int row = clampRow(kb, valueAt(kb, ids, leading(kb, ids)), node(table).shape.dims[0]);
      int last = int(x.shape.rank()) - 1;
      int at = kb.binary(ExprOp::IAdd, kb.binary(ExprOp::IMul, row, kb.constI(width)), kb.var(last));
      kb.store(out, rowMajorIndex(kb, kb.kernel().domain), valueAt(kb, table, at));
      emit(kb, true);
      return;
    }
    case OpKind::ScatterAdd: {  // (ids[...], dy[..., D]) -> [V, D]
      int ids = inputId(id, 0), dy = inputId(id, 1);
      requireIds(ids);
      int64_t width = x.shape.dims.back();
      KernelBuilder init(opName(x, id) + "_init", domainOf(x.shape));
      init.store(out, rowMajorIndex(init, init.kernel().domain), init.constF(0));
      emit(init, true);
      // Rows may repeat an id, so the additions run in order, not in parallel.
      const Shape &ds = node(dy).shape;
      KernelBuilder kb(opName(x, id), domainOf(ds));
      int row = clampRow(kb, valueAt(kb, ids, broadcastIndex(kb, node(ids).shape, lead(ds, ids))), x.shape.dims[0]);
      int last = int(ds.rank()) - 1;
      int at = kb.binary(ExprOp::IAdd, kb.binary(ExprOp::IMul, row, kb.constI(width)), kb.var(last));
      kb.store(out, at, valueF(kb, dy, rowMajorIndex(kb, kb.kernel().domain)), true);
      emit(kb, false);
      return;
    }
    case OpKind::OneHot: {  // (labels[...]) -> f32[..., C]
      int labels = inputId(id, 0);
      requireIds(labels);
      KernelBuilder kb(opName(x, id), domainOf(x.shape));
      int cls = valueAt(kb, labels, leading(kb, labels));
      int value = kb.binary(ExprOp::IEq, kb.var(int(x.shape.rank()) - 1), cls);
      kb.store(out, rowMajorIndex(kb, kb.kernel().domain), value);
      emit(kb, true);
      return;
    }
    case OpKind::PickColumn: {  // (x[..., C], labels[...]) -> [...]
      int src = inputId(id, 0), labels = inputId(id, 1);
      requireIds(labels);
      KernelBuilder kb(opName(x, id), domainOf(x.shape));
      std::vector<int64_t> xst = stridesOf(node(src).shape);
      std::vector<std::pair<int, int64_t>> terms;
      for (size_t d = 0; d < x.shape.rank(); ++d) terms.push_back({int(d), x.shape.dims[d] == 1 ? 0 : xst[d]});
      int index = rowMajorIndex(kb, kb.kernel().domain);
      int cls = valueAt(kb, labels, broadcastIndex(kb, node(labels).shape, x.shape));
      int at = kb.binary(ExprOp::IAdd, kb.affine(terms), cls);
      kb.store(out, index, valueAt(kb, src, at));
      emit(kb, true);
      return;
    }
    default: fail(opName(x, id) + ": unknown index op");
    }
  }

  // `s` without its last dimension: the shape an index operand must have.
  Shape lead(const Shape &s, int of) {
    Shape l = s;
    if (l.dims.empty()) fail("index op on a scalar");
    l.dims.pop_back();
    if (node(of).shape.rank() > l.rank())
      fail("ids of shape " + graph::toString(node(of).shape) + " for " + graph::toString(s));
    return l;
  }

  void requireIds(int id) {
    if (node(id).dtype != graph::DType::I64 || inline_[size_t(id)])
      fail("%" + std::to_string(id) + " is not an i64 tensor of ids");
  }

  void lowerEffect(int id) {
    const Node &x = node(id);
    int value = inputId(id, 0);
    int target;
    Shape shape;
    if (x.op == OpKind::Assign) {
      target = l_.stateBuffer.at(size_t(x.index));
      shape = m_.states.at(size_t(x.index)).shape;
    } else {
      target = l_.ioBuffer.at(x.name);
      if (buffer_[size_t(value)] == target) return;  // the producer already wrote it
      shape = node(value).shape;
    }
    KernelBuilder kb(opName(x, id), domainOf(shape));
    kb.store(target, rowMajorIndex(kb, kb.kernel().domain), copyValue(kb, value, shape));
    emit(kb, true);
  }
};

}  // namespace

Program lowerToLoops(const graph::Module &module) {
  Layout layout = layOut(module);
  for (const graph::Function &f : module.functions) {
    Function lowered = FunctionLowering(layout, module, f).run();
    layout.program.functions.push_back(std::move(lowered));
  }
  return std::move(layout.program);
}

}  // namespace mlc::loops
