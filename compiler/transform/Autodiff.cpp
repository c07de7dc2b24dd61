#include "transform/Autodiff.h"

#include "graph/NodeBuilder.h"

#include <fmt/format.h>
#include <algorithm>
#include <stdexcept>

namespace mlc::transform {

using namespace graph;

namespace {

class Differentiator : NodeBuilder {
public:
  Differentiator(Module &m, Function &f) : NodeBuilder(m, f) {}

  std::vector<ParamGrad> run(int loss) {
    size_t forward = f_->nodes.size();
    // Only values on a path from a parameter to the loss get adjoints.
    std::vector<bool> needs(forward, false);
    for (size_t i = 0; i < forward; ++i) {
      const Node &n = f_->nodes[i];
      needs[i] = n.op == OpKind::Param;
      for (int in : n.inputs) needs[i] = needs[i] || needs[size_t(in)];
      // No adjoint for what the result does not depend on (softmax's shift),
      // so nothing is computed only to be thrown away.
      if (n.stopGradient) needs[i] = false;
    }
    needs_ = needs;
    adjoint_.assign(forward, -1);
    origin = "d loss";
    adjoint_[size_t(loss)] = constant(1.0);
    std::vector<ParamGrad> grads;
    for (int id = loss; id >= 0; --id) {
      int g = adjoint_[size_t(id)];
      if (g < 0 || !needs_[size_t(id)]) continue;
      const Node n = node(id);  // a copy: adding nodes reallocates
      origin = n.origin.empty() ? std::string("grad of ") + spelling(n.op) : "grad of " + n.origin;
      if (n.op == OpKind::Param) {
        grads.push_back({n.index, g});
        continue;
      }
      backward(id, n, g);
    }
    // Parameters used twice get one summed gradient.
    std::vector<ParamGrad> merged;
    for (const ParamGrad &pg : grads) {
      auto it = std::find_if(merged.begin(), merged.end(), [&](const ParamGrad &m) { return m.state == pg.state; });
      if (it == merged.end()) merged.push_back(pg);
      else it->grad = binary(OpKind::Add, it->grad, pg.grad);
    }
    std::sort(merged.begin(), merged.end(), [](const ParamGrad &a, const ParamGrad &b) { return a.state < b.state; });
    for (const ParamGrad &pg : merged) node(pg.grad).name = fmt::format("grad @{}", pg.state);
    return merged;
  }

private:

  // Sums a broadcast gradient back to the shape of the operand it came from.
  int sumTo(int g, const Shape &target) {
    const Shape &s = shape(g);
    if (s == target) return g;
    size_t lead = s.rank() - target.rank();
    std::vector<int64_t> axes;
    for (size_t i = 0; i < s.rank(); ++i)
      if (i < lead || (target.dims[i - lead] == 1 && s.dims[i] != 1)) axes.push_back(int64_t(i));
    Shape reduced;
    for (size_t i = 0; i < s.rank(); ++i)
      if (std::find(axes.begin(), axes.end(), int64_t(i)) == axes.end()) reduced.dims.push_back(s.dims[i]);
    int r = add(OpKind::ReduceSum, {g}, reduced);
    node(r).ints = axes;
    return reshape(r, target);
  }

  void accumulate(int target, int g) {
    if (!needs_[size_t(target)]) return;
    int &slot = adjoint_[size_t(target)];
    slot = slot < 0 ? g : binary(OpKind::Add, slot, g);
  }

  int matmul(int a, int b, bool ta, bool tb, const Shape &want) {
    const Shape &sa = shape(a), &sb = shape(b);
    int64_t n = tb ? sb.fixedElements() / sb.dims.back() * (sb.batched() ? -1 : 1) : sb.dims.back();
    Shape out;
    if (!ta) {
      out.dims.assign(sa.dims.begin(), sa.dims.end() - 1);
      out.dims.push_back(n);
    } else {
      out.dims = {sa.dims.back(), n};
    }
    if (tb && sb.batched()) throw std::logic_error("autodiff: matmul against a transposed batched operand");
    int id = add(OpKind::MatMul, {a, b}, out);
    node(id).ints = {ta, tb};
    return reshape(id, want);
  }

  int broadcastTo(int g, const Shape &s) { return shape(g) == s ? g : add(OpKind::BroadcastTo, {g}, s); }

  // The reduced value's gradient, spread back over the reduced axes.
  int unreduce(int g, const Node &n, const Shape &inputShape) {
    Shape kept = inputShape;
    for (int64_t axis : n.ints) kept.dims[size_t(axis)] = 1;
    if (kept.batched() == false && inputShape.batched()) {
      // reducing the batch: `kept` has 1 there, which broadcasts to the batch
    }
    return broadcastTo(reshape(g, kept), inputShape);
  }

  void backward(int id, const Node &n, int g) {
    auto in = [&](size_t k) { return n.inputs[k]; };
    auto shapeIn = [&](size_t k) { return shape(n.inputs[k]); };
    switch (n.op) {
    case OpKind::Add:
      accumulate(in(0), sumTo(g, shapeIn(0)));
      accumulate(in(1), sumTo(g, shapeIn(1)));
      return;
    case OpKind::Sub:
      accumulate(in(0), sumTo(g, shapeIn(0)));
      if (needs_[size_t(in(1))]) accumulate(in(1), sumTo(unary(OpKind::Neg, g), shapeIn(1)));
      return;
    case OpKind::Mul:
      if (needs_[size_t(in(0))]) accumulate(in(0), sumTo(binary(OpKind::Mul, g, in(1)), shapeIn(0)));
      if (needs_[size_t(in(1))]) accumulate(in(1), sumTo(binary(OpKind::Mul, g, in(0)), shapeIn(1)));
      return;
    case OpKind::Div:
      if (needs_[size_t(in(0))]) accumulate(in(0), sumTo(binary(OpKind::Div, g, in(1)), shapeIn(0)));
      if (needs_[size_t(in(1))]) {
        // d(a/b)/db = -(a/b)/b
        int t = binary(OpKind::Div, binary(OpKind::Mul, g, id), in(1));
        accumulate(in(1), sumTo(unary(OpKind::Neg, t), shapeIn(1)));
      }
      return;
    case OpKind::Min:
    case OpKind::Max: {
      // The gradient goes to the operand that was chosen (a on ties).
      int aLoses = n.op == OpKind::Max ? binary(OpKind::Less, in(0), in(1)) : binary(OpKind::Less, in(1), in(0));
      int toB = binary(OpKind::Mul, g, aLoses);
      if (needs_[size_t(in(0))]) accumulate(in(0), sumTo(binary(OpKind::Sub, g, toB), shapeIn(0)));
      if (needs_[size_t(in(1))]) accumulate(in(1), sumTo(toB, shapeIn(1)));
      return;
    }
    case OpKind::Select: {
      int zero = constant(0);
      if (needs_[size_t(in(1))])
        accumulate(in(1), sumTo(add(OpKind::Select, {in(0), g, zero}, shape(g)), shapeIn(1)));
      if (needs_[size_t(in(2))])
        accumulate(in(2), sumTo(add(OpKind::Select, {in(0), zero, g}, shape(g)), shapeIn(2)));
      return;
    }
    case OpKind::Neg: accumulate(in(0), unary(OpKind::Neg, g)); return;
    case OpKind::Relu: accumulate(in(0), binary(OpKind::Mul, g, unary(OpKind::Heaviside, in(0)))); return;
    case OpKind::Gelu: accumulate(in(0), binary(OpKind::Mul, g, unary(OpKind::GeluGrad, in(0)))); return;
    case OpKind::Tanh: {
      int oneMinus = binary(OpKind::Sub, constant(1), unary(OpKind::Square, id));
      accumulate(in(0), binary(OpKind::Mul, g, oneMinus));
      return;
    }
    case OpKind::Sigmoid: {
      int slope = binary(OpKind::Mul, id, binary(OpKind::Sub, constant(1), id));
      accumulate(in(0), binary(OpKind::Mul, g, slope));
      return;
    }
    case OpKind::Exp: accumulate(in(0), binary(OpKind::Mul, g, id)); return;
    case OpKind::Log: accumulate(in(0), binary(OpKind::Div, g, in(0))); return;
    case OpKind::Sqrt: accumulate(in(0), binary(OpKind::Div, binary(OpKind::Mul, g, constant(0.5)), id)); return;
    case OpKind::Rsqrt: {
      // d x^-1/2 = -1/2 x^-3/2 = -1/2 y^3
      int cube = binary(OpKind::Mul, unary(OpKind::Square, id), id);
      accumulate(in(0), binary(OpKind::Mul, g, binary(OpKind::Mul, cube, constant(-0.5))));
      return;
    }
    case OpKind::Square: accumulate(in(0), binary(OpKind::Mul, g, binary(OpKind::Mul, in(0), constant(2)))); return;
    case OpKind::Abs: accumulate(in(0), binary(OpKind::Mul, g, unary(OpKind::Sign, in(0)))); return;
    case OpKind::Heaviside:
    case OpKind::Sign:
    case OpKind::Floor:
    case OpKind::Less:
      return;  // piecewise constant: zero almost everywhere
    case OpKind::Dropout: {
      int d = add(OpKind::DropoutGrad, {g, in(1)}, shape(g));
      node(d).index = n.index;  // the forward's mask
      accumulate(in(0), d);
      return;
    }
    case OpKind::ReduceSum: accumulate(in(0), unreduce(g, n, shapeIn(0))); return;
    case OpKind::ReduceMean: {
      const Shape &s = shapeIn(0);
      int64_t count = 1;
      bool batch = false;
      for (int64_t axis : n.ints) {
        if (s.dims[size_t(axis)] == kBatch) batch = true;
        else count *= s.dims[size_t(axis)];
      }
      int scaled = count == 1 ? g : binary(OpKind::Div, g, constant(double(count)));
      if (batch) scaled = binary(OpKind::Div, scaled, add(OpKind::BatchSize, {}, Shape{}));
      accumulate(in(0), unreduce(scaled, n, s));
      return;
    }
    case OpKind::ReduceMax: {
      int spread = unreduce(g, n, shapeIn(0));
      int maxed = unreduce(id, n, shapeIn(0));
      int isMax = binary(OpKind::Sub, constant(1), binary(OpKind::Less, in(0), maxed));
      accumulate(in(0), binary(OpKind::Mul, spread, isMax));
      return;
    }
    case OpKind::Reshape: accumulate(in(0), reshape(g, shapeIn(0))); return;
    case OpKind::BroadcastTo: accumulate(in(0), sumTo(g, shapeIn(0))); return;
    case OpKind::Transpose: {
      std::vector<int64_t> inverse(n.ints.size());
      for (size_t i = 0; i < n.ints.size(); ++i) inverse[size_t(n.ints[i])] = int64_t(i);
      int t = add(OpKind::Transpose, {g}, shapeIn(0));
      node(t).ints = inverse;
      accumulate(in(0), t);
      return;
    }
    case OpKind::Concat: {
      int64_t axis = n.ints[0];
      int64_t offset = 0;
      for (size_t k = 0; k < n.inputs.size(); ++k) {
        int s = add(OpKind::Slice, {g}, shapeIn(k));
        node(s).ints = {axis, offset};
        offset += shapeIn(k).dims[size_t(axis)];
        accumulate(in(k), s);
      }
      return;
    }
    case OpKind::Slice: {
      // Pads the gradient with zeros back to the operand's extent.
      int64_t axis = n.ints[0], start = n.ints[1];
      const Shape &full = shapeIn(0);
      int64_t len = shape(g).dims[size_t(axis)], rest = full.dims[size_t(axis)] - start - len;
      int padded = g;
      auto zeros = [&](int64_t extent) {
        Shape z = shape(g);
        z.dims[size_t(axis)] = extent;
        return add(OpKind::BroadcastTo, {constant(0)}, z);
      };
      auto concat = [&](int a, int b) {
        Shape s = shape(a);
        s.dims[size_t(axis)] += shape(b).dims[size_t(axis)];
        int c = add(OpKind::Concat, {a, b}, s);
        node(c).ints = {axis};
        return c;
      };
      if (start > 0) padded = concat(zeros(start), padded);
      if (rest > 0) padded = concat(padded, zeros(rest));
      accumulate(in(0), padded);
      return;
    }
    case OpKind::MatMul: {
      bool ta = n.ints[0], tb = n.ints[1];
      int a = in(0), b = in(1);
      if (needs_[size_t(a)]) {
        int da = !ta ? matmul(g, b, false, !tb, shapeIn(0)) : tb ? matmul(b, g, true, true, shapeIn(0)) : matmul(b, g, false, true, shapeIn(0));
        accumulate(a, da);
      }
      if (needs_[size_t(b)]) {
        int db = !tb ? (ta ? matmul(a, g, false, false, shapeIn(1)) : matmul(a, g, true, false, shapeIn(1)))
                     : (ta ? matmul(g, a, true, true, shapeIn(1)) : matmul(g, a, true, false, shapeIn(1)));
        accumulate(b, db);
      }
      return;
    }
    case OpKind::Gather: {
      int d = add(OpKind::ScatterAdd, {in(1), g}, shapeIn(0));
      accumulate(in(0), d);
      return;
    }
    case OpKind::PickColumn: {
      const Shape &s = shapeIn(0);
      int onehot = add(OpKind::OneHot, {in(1)}, s);
      Shape column = shape(g);
      column.dims.push_back(1);
      accumulate(in(0), binary(OpKind::Mul, onehot, reshape(g, column)));
      return;
    }
    default:
      throw std::logic_error(fmt::format("autodiff: no gradient rule for `{}`", spelling(n.op)));
    }
  }

  std::vector<bool> needs_;
  std::vector<int> adjoint_;
};

}  // namespace

std::vector<ParamGrad> differentiate(Module &m, Function &f) {
  int loss = -1;
  for (const Node &n : f.nodes)
    if (n.op == OpKind::Output && n.name == "loss") loss = n.inputs[0];
  if (loss < 0) throw std::logic_error("autodiff: the function has no `loss` output");
  return Differentiator(m, f).run(loss);
}

}  // namespace mlc::transform
