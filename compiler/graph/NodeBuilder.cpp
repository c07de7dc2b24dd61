#include "graph/NodeBuilder.h"

#include <algorithm>
#include <stdexcept>

namespace mlc::graph {

int NodeBuilder::add(OpKind op, std::vector<int> inputs, Shape shape, DType dtype) {
  Node n;
  n.op = op;
  n.inputs = std::move(inputs);
  n.shape = std::move(shape);
  n.dtype = dtype;
  n.origin = origin;
  return f_->add(std::move(n));
}

int NodeBuilder::constant(double x) {
  int id = add(OpKind::Const, {}, Shape{});
  node(id).scalar = x;
  return id;
}

int NodeBuilder::hparam(const std::string &key, double value, bool counter, bool integer,
                        const std::optional<sema::Interval> &range) {
  std::optional<ScalarRange> r;
  if (range) r = ScalarRange{range->lo, range->hi, !range->loInclusive, !range->hiInclusive};
  int id = add(OpKind::HParam, {}, Shape{});
  node(id).index = m_->hparam(key, value, counter, integer, r);
  return id;
}

int NodeBuilder::binary(OpKind op, int a, int b) {
  Shape s;
  if (!broadcastShapes(shape(a), shape(b), s))
    throw std::logic_error(std::string("graph: operands of `") + spelling(op) + "` do not broadcast: " +
                           toString(shape(a)) + " and " + toString(shape(b)));
  return add(op, {a, b}, s);
}

int NodeBuilder::select(int c, int a, int b) {
  Shape s, t;
  if (!broadcastShapes(shape(c), shape(a), s) || !broadcastShapes(s, shape(b), t))
    throw std::logic_error("graph: operands of `select` do not broadcast");
  return add(OpKind::Select, {c, a, b}, t);
}

int NodeBuilder::reduce(OpKind op, int a, std::vector<int64_t> axes, bool keep) {
  Shape s;
  for (size_t i = 0; i < shape(a).rank(); ++i) {
    bool reduced = std::find(axes.begin(), axes.end(), int64_t(i)) != axes.end();
    if (!reduced) s.dims.push_back(shape(a).dims[i]);
    else if (keep) s.dims.push_back(1);
  }
  int id = add(op, {a}, s);
  node(id).ints = std::move(axes);
  node(id).keepDims = keep;
  return id;
}

int NodeBuilder::param(int state) {
  int id = add(OpKind::Param, {}, m_->states[size_t(state)].shape);
  node(id).index = state;
  return id;
}

void NodeBuilder::assign(int state, int value) {
  int id = add(OpKind::Assign, {value}, Shape{});
  node(id).index = state;
}

void NodeBuilder::output(int v, const std::string &name) {
  int id = add(OpKind::Output, {v}, Shape{});
  node(id).name = name;
}

}  // namespace mlc::graph
