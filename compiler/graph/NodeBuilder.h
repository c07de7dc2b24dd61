// Appends nodes to a function, computing each result's shape and stamping
// it with the source construct being lowered. The graph builder, autodiff
// and optimizer lowering all write graphs through it.
#pragma once

#include "graph/Graph.h"
#include "sema/Value.h"

namespace mlc::graph {

class NodeBuilder {
public:
  NodeBuilder(Module &m, Function &f) : m_(&m), f_(&f) {}

  /// Shown beside every node added from now on (`14:3 linear`, `grad of ...`).
  std::string origin;

  int add(OpKind op, std::vector<int> inputs, Shape shape, DType dtype = DType::F32);
  const Shape &shape(int v) const { return (*f_)[v].shape; }
  Node &node(int v) { return (*f_)[v]; }

  int constant(double x);
  /// Reads the runtime scalar `key`, declared with `value` (and the range
  /// its declaration gives it) on first use.
  int hparam(const std::string &key, double value, bool counter = false, bool integer = false,
             const std::optional<sema::Interval> &range = {});
  int unary(OpKind op, int a) { return add(op, {a}, shape(a)); }
  /// NumPy broadcasting; operands that do not broadcast are a compiler bug.
  int binary(OpKind op, int a, int b);
  int select(int c, int a, int b);
  int reduce(OpKind op, int a, std::vector<int64_t> axes, bool keep);
  int reshape(int a, const Shape &s) { return shape(a) == s ? a : add(OpKind::Reshape, {a}, s); }
  int param(int state);
  void assign(int state, int value);
  void output(int v, const std::string &name);

protected:
  Module *m_;
  Function *f_;
};

}  // namespace mlc::graph
