// The graph IR: one training dataflow graph per trial variant. Values are
// typed tensors with static shapes (the batch dimension symbolic) and a
// device; a module holds the persistent state (parameters, optimizer
// moments), the runtime scalars (hyperparameters that a sweep or an
// override changes without recompiling) and the step functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mlc::graph {

/// The symbolic batch dimension; only ever the first dimension of a shape.
constexpr int64_t kBatch = -1;

enum class DType : uint8_t { F32, I64 };
/// Where a value lives. Everything is Cpu until the CUDA backend lands; the
/// field is here so that placement is a pass, not a rewrite.
enum class Device : uint8_t { Cpu, Cuda };

enum class OpKind : uint8_t {
#define OP(Name, spelling, category) Name,
#include "graph/OpKinds.def"
};
enum class OpCategory : uint8_t { Source, Unary, Binary, Select, Reduce, Shape, Linalg, Index, Collective, Effect };

const char *spelling(OpKind op);
OpCategory category(OpKind op);
/// Elementwise: Unary, Binary and Select (Dropout and DropoutGrad included).
bool isElementwise(OpKind op);
const char *spelling(DType t);
const char *spelling(Device d);

struct Shape {
  std::vector<int64_t> dims;  // kBatch allowed only as dims[0]

  size_t rank() const { return dims.size(); }
  bool batched() const { return !dims.empty() && dims[0] == kBatch; }
  /// Elements per sample for a batched shape, all elements otherwise.
  int64_t fixedElements() const;
  int64_t elements(int64_t batch) const { return batched() ? fixedElements() * batch : fixedElements(); }
  bool operator==(const Shape &o) const { return dims == o.dims; }
  bool operator!=(const Shape &o) const { return dims != o.dims; }
};
std::string toString(const Shape &s);  // `[batch, 64]`, `[]` for a scalar

/// MatMul(a, b), ints = {transA, transB}: each operand is viewed as a
/// row-major matrix whose rows are all its dimensions but the last (the
/// batch included), op(X) transposes it when its flag is set, and the
/// result is op(A)·op(B). Without transA the result keeps a's leading
/// dimensions (`[batch, n]` for a linear layer); with it the result is 2-D
/// (`x^T · dy`, a weight gradient, sums over the batch).
///
/// One node and the value it defines (node id == value id). Effects define
/// no value; their shape is empty and nothing may use them.
struct Node {
  OpKind op = OpKind::Const;
  std::vector<int> inputs;
  DType dtype = DType::F32;
  Shape shape;
  Device device = Device::Cpu;
  std::vector<int64_t> ints;  // axes, permutation, transA/transB, ...
  bool keepDims = false;      // reductions
  double scalar = 0;          // Const
  int index = -1;             // Param/Assign: state; HParam: hparam; Dropout*: rng key
  std::string name;           // Input, Output
  std::string origin;         // `file:line:col name` of the source call, for dumps
  /// A value the result does not depend on (softmax's max shift): autodiff
  /// gives it no adjoint.
  bool stopGradient = false;
};

/// Persistent state: parameters, their gradients' accumulators, optimizer moments.
struct StateDecl {
  enum Role : uint8_t { Parameter, GradAccumulator, Moment1, Moment2, Momentum } role = Parameter;
  enum Init : uint8_t { Zeros, Ones, Uniform } init = Zeros;
  std::string name;      // `linear0.weight`, `linear0.weight.adam_m`
  Shape shape;           // never batched
  double bound = 0;      // Uniform: U(-bound, bound) (PyTorch's nn.Linear default)
  int of = -1;           // accumulators and moments: the parameter they belong to
};

/// The values a runtime scalar may take, from its declaration (`in [0, 1)`).
struct ScalarRange {
  std::optional<double> lo, hi;
  bool loOpen = false, hiOpen = false;
};

/// A runtime scalar: a numeric hyperparameter (`optimizer.lr`, `model.p`)
/// or a counter the runtime keeps (`step`). The step program reads it from
/// the context, so changing it never recompiles.
struct HParamDecl {
  std::string key;
  double value = 0;       // the compiled default
  bool counter = false;   // kept by the runtime (step, total_steps), not overridable
  bool integer = false;   // an int key (shown as such in --help)
  std::optional<ScalarRange> range;  // what an override must respect
};

/// A step function: nodes in a valid execution order.
struct Function {
  std::string name;  // train_step, apply_step, eval_step
  std::vector<Node> nodes;

  int add(Node n);
  const Node &operator[](int id) const { return nodes[size_t(id)]; }
  Node &operator[](int id) { return nodes[size_t(id)]; }
};

struct Module {
  std::string experiment;
  std::vector<StateDecl> states;
  std::vector<HParamDecl> hparams;
  std::vector<Function> functions;

  int addState(StateDecl s);
  /// The slot of `key`, added on first use.
  int hparam(const std::string &key, double value, bool counter = false, bool integer = false,
             std::optional<ScalarRange> range = {});
  int findHParam(const std::string &key) const;  // -1 if absent
  Function *function(const std::string &name);
  const Function *function(const std::string &name) const;
};

/// Checks the invariants every pass relies on (operands defined before use,
/// shapes consistent with each op's rule); returns the first violation, or
/// an empty string. Passes run it in debug builds and the tests always.
std::string verify(const Module &m);

/// NumPy broadcasting of two shapes; false when they do not broadcast.
bool broadcastShapes(const Shape &a, const Shape &b, Shape &out);

}  // namespace mlc::graph
