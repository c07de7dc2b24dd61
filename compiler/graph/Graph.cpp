#include "graph/Graph.h"

#include <algorithm>
#include <fmt/format.h>

namespace mlc::graph {

const char *spelling(OpKind op) {
  switch (op) {
#define OP(Name, text, category) \
  case OpKind::Name: return text;
#include "graph/OpKinds.def"
  }
  return "?";
}

OpCategory category(OpKind op) {
  switch (op) {
#define OP(Name, text, cat) \
  case OpKind::Name: return OpCategory::cat;
#include "graph/OpKinds.def"
  }
  return OpCategory::Effect;
}

bool isElementwise(OpKind op) {
  OpCategory c = category(op);
  return c == OpCategory::Unary || c == OpCategory::Binary || c == OpCategory::Select;
}

const char *spelling(DType t) { return t == DType::F32 ? "f32" : "i64"; }
const char *spelling(Device d) { return d == Device::Cpu ? "cpu" : "cuda"; }

int64_t Shape::fixedElements() const {
  int64_t n = 1;
  for (int64_t d : dims)
    if (d != kBatch) n *= d;
  return n;
}

std::string toString(const Shape &s) {
  std::string out = "[";
  for (size_t i = 0; i < s.dims.size(); ++i) {
    if (i) out += ", ";
    out += s.dims[i] == kBatch ? "batch" : std::to_string(s.dims[i]);
  }
  return out + "]";
}

int Function::add(Node n) {
  nodes.push_back(std::move(n));
  return int(nodes.size()) - 1;
}

int Module::addState(StateDecl s) {
  states.push_back(std::move(s));
  return int(states.size()) - 1;
}

int Module::hparam(const std::string &key, double value, bool counter, bool integer,
                   std::optional<ScalarRange> range) {
  int found = findHParam(key);
  if (found >= 0) return found;
  hparams.push_back({key, value, counter, integer, range});
  return int(hparams.size()) - 1;
}

int Module::findHParam(const std::string &key) const {
  for (size_t i = 0; i < hparams.size(); ++i)
    if (hparams[i].key == key) return int(i);
  return -1;
}

Function *Module::function(const std::string &name) {
  for (Function &f : functions)
    if (f.name == name) return &f;
  return nullptr;
}

const Function *Module::function(const std::string &name) const {
  for (const Function &f : functions)
    if (f.name == name) return &f;
  return nullptr;
}

bool broadcastShapes(const Shape &a, const Shape &b, Shape &out) {
  size_t rank = std::max(a.rank(), b.rank());
  out.dims.assign(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    int64_t x = i < rank - a.rank() ? 1 : a.dims[i - (rank - a.rank())];
    int64_t y = i < rank - b.rank() ? 1 : b.dims[i - (rank - b.rank())];
    if (x == y) out.dims[i] = x;
    else if (x == 1) out.dims[i] = y;
    else if (y == 1) out.dims[i] = x;
    else return false;
  }
  // The batch may only lead; broadcasting never moves it.
  for (size_t i = 1; i < rank; ++i)
    if (out.dims[i] == kBatch) return false;
  return true;
}

namespace {

std::string checkNode(const Module &m, const Function &f, int id) {
  const Node &n = f[id];
  auto bad = [&](const std::string &why) {
    return fmt::format("{}: %{} = {}: {}", f.name, id, spelling(n.op), why);
  };
  for (int in : n.inputs) {
    if (in < 0 || in >= id) return bad(fmt::format("operand %{} is not defined before use", in));
    if (category(f[in].op) == OpCategory::Effect) return bad(fmt::format("operand %{} is an effect", in));
  }
  auto arity = [&](size_t k) { return n.inputs.size() == k; };
  auto operand = [&](size_t k) -> const Node & { return f[n.inputs[k]]; };
  for (size_t i = 1; i < n.shape.rank(); ++i)
    if (n.shape.dims[i] == kBatch) return bad("the batch dimension is not the first");
  switch (category(n.op)) {
  case OpCategory::Source:
    if (!arity(0)) return bad("a source takes no operands");
    if (n.op == OpKind::Param && (n.index < 0 || size_t(n.index) >= m.states.size())) return bad("no such state");
    if (n.op == OpKind::Param && n.shape != m.states[size_t(n.index)].shape) return bad("shape differs from the state's");
    if (n.op == OpKind::HParam && (n.index < 0 || size_t(n.index) >= m.hparams.size())) return bad("no such hparam");
    return {};
  case OpCategory::Unary:
    if (!arity(1)) return bad("expects one operand");
    if (operand(0).shape != n.shape) return bad("shape differs from its operand's");
    return {};
  case OpCategory::Binary:
  case OpCategory::Select: {
    size_t k = n.op == OpKind::Select ? 3 : 2;
    if (!arity(k)) return bad(fmt::format("expects {} operands", k));
    Shape s = operand(0).shape, t;
    for (size_t i = 1; i < k; ++i) {
      if (!broadcastShapes(s, operand(i).shape, t)) return bad("operands do not broadcast");
      s = t;
    }
    if (s != n.shape) return bad("shape is not the broadcast of its operands'");
    return {};
  }
  case OpCategory::Reduce:
    if (!arity(1)) return bad("expects one operand");
    for (int64_t axis : n.ints)
      if (axis < 0 || size_t(axis) >= operand(0).shape.rank()) return bad("axis out of range");
    return {};
  case OpCategory::Shape:
    if (n.op == OpKind::Reshape && operand(0).shape.batched() != n.shape.batched()) return bad("reshape moves the batch");
    if (n.op == OpKind::Reshape && operand(0).shape.fixedElements() != n.shape.fixedElements())
      return bad("reshape changes the element count");
    return {};
  case OpCategory::Linalg: {
    if (!arity(2) || n.ints.size() != 2) return bad("expects two operands and transA, transB");
    const Shape &a = operand(0).shape, &b = operand(1).shape;
    if (a.rank() < 2 && !(a.rank() == 1 && !n.ints[0])) return bad("operand a is not a matrix");
    int64_t ka = n.ints[0] ? (a.rank() == 2 && !a.batched() ? a.dims[0] : -2) : a.dims.back();
    int64_t kb = n.ints[1] ? b.dims.back() : (b.rank() == 2 && !b.batched() ? b.dims[0] : -2);
    if (ka != kb && ka != -2 && kb != -2) return bad(fmt::format("inner dimensions differ ({} vs {})", ka, kb));
    return {};
  }
  case OpCategory::Index:
  case OpCategory::Collective:
    return {};
  case OpCategory::Effect:
    if (n.op == OpKind::Assign) {
      if (!arity(1) || n.index < 0 || size_t(n.index) >= m.states.size()) return bad("assigns no state");
      if (operand(0).shape != m.states[size_t(n.index)].shape) return bad("value shape differs from the state's");
    }
    if (n.op == OpKind::Output && !arity(1)) return bad("outputs one value");
    return {};
  }
  return {};
}

}  // namespace

std::string verify(const Module &m) {
  for (const Function &f : m.functions)
    for (int id = 0; id < int(f.nodes.size()); ++id)
      if (std::string why = checkNode(m, f, id); !why.empty()) return why;
  return {};
}

}  // namespace mlc::graph
