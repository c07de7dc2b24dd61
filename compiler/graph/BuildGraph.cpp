#include "graph/BuildGraph.h"

#include "graph/NodeBuilder.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <map>
#include <stdexcept>

namespace mlc::graph {

namespace {

Shape shapeOf(const sema::TensorType &t) {
  Shape s;
  for (const sema::Dim &d : t.dims) s.dims.push_back(d.kind == sema::Dim::Batch ? kBatch : d.size);
  return s;
}

DType dtypeOf(const sema::TensorType &t) { return t.dtype == "i64" || t.dtype == "i32" ? DType::I64 : DType::F32; }

double numberArg(const sema::Value &call, const std::string &name, double fallback) {
  const sema::Value *v = call.arg(name);
  return v && v->isNumber() ? v->number() : fallback;
}

// Parameters are created once per layer call and shared by both forwards.
using ParamTable = std::map<size_t, std::vector<int>>;

class Builder : NodeBuilder {
public:
  Builder(const sema::CheckedExperiment &exp, Diagnostics &diags, Module &m, Function &f, bool training,
          ParamTable &params)
      : NodeBuilder(m, f), exp_(exp), diags_(diags), training_(training), params_(params) {}

  bool run() {
    const sema::ModelInstance &model = exp_.model;
    int features = add(OpKind::Input, {}, shapeOf(exp_.data.features), dtypeOf(exp_.data.features));
    node(features).name = "features";
    label_ = add(OpKind::Label, {}, shapeOf(exp_.data.label), dtypeOf(exp_.data.label));
    node(label_).name = "label";
    if (!model.inputNodes.empty()) values_[model.inputNodes[0]] = features;
    bool ok = true;
    for (size_t i = 0; i < model.ops.size() && ok; ++i) ok = lowerOp(i, model.ops[i]);
    if (!ok) return false;
    int loss = lowerLoss();
    if (loss < 0) return false;
    output(loss, "loss");
    if (!training_) output(valueOf(predictionName(exp_)), predictionName(exp_));
    return true;
  }

private:
  int lastAxis(int a) const { return int(shape(a).rank()) - 1; }
  int param(size_t op, size_t k, const std::string &name, Shape s, StateDecl::Init init, double bound) {
    std::vector<int> &states = params_[op];
    if (states.size() <= k) {
      StateDecl d;
      d.name = name;
      d.shape = s;
      d.init = init;
      d.bound = bound;
      states.push_back(m_->addState(std::move(d)));
    }
    int id = add(OpKind::Param, {}, std::move(s));
    node(id).index = states[k];
    return id;
  }
  std::string layerName(const std::string &op) { return fmt::format("{}{}", op, layerCount_[op]++); }

  int valueOf(int64_t semaNode) const {
    auto it = values_.find(semaNode);
    return it == values_.end() ? -1 : it->second;
  }
  int valueOf(const std::string &name) const {
    if (name == "label") return label_;
    if (name == "features") return 0;
    const auto &outs = exp_.model.outputs;
    for (size_t i = 0; i < outs.size(); ++i)
      if (outs[i].first == name) return valueOf(exp_.model.outputNodes[i]);
    return -1;
  }

  // `14:3` in the experiment's own file; `nn.mlp:60:14` inside a std composite.
  std::string originOf(Loc at) const {
    if (!at.valid()) return {};
    auto pos = diags_.sources().position(at.file, at.begin);
    if (at.file == exp_.decl->file) return fmt::format("{}:{}", pos.line, pos.column);
    std::string path = diags_.sources().path(at.file);
    return fmt::format("{}:{}:{}", path.substr(path.find_last_of('/') + 1), pos.line, pos.column);
  }

  // A float argument of a layer or of arithmetic. A model hyperparameter
  // passed unchanged is a runtime input under its own key (`model.p`), so an
  // override reaches every use of it; a literal is a constant, or, with
  // `literalKey`, a runtime input under that key (a dropout rate of `0.1`
  // can be overridden too).
  int scalar(const sema::Value &call, const std::string &arg, double fallback, const std::string &literalKey = {},
             std::optional<sema::Interval> literalRange = {}) {
    const sema::Value *v = call.arg(arg);
    double value = v && v->isNumber() ? v->number() : fallback;
    if (v && v->kind == sema::Value::Float && !v->origin.empty()) {
      const sema::Param *declared = exp_.model.model->param(v->origin.substr(v->origin.find('.') + 1));
      return hparam(v->origin, value, false, false, declared ? declared->range : std::nullopt);
    }
    if (!literalKey.empty()) return hparam(literalKey, value, false, false, literalRange);
    return constant(value);
  }

  int softmaxParts(int x, bool logOutput) {
    int axis = lastAxis(x);
    int max = reduce(OpKind::ReduceMax, x, {axis}, true);
    // Softmax does not depend on the shift, so its gradient is exactly zero.
    node(max).stopGradient = true;
    int shifted = binary(OpKind::Sub, x, max);
    int e = unary(OpKind::Exp, shifted);
    int sum = reduce(OpKind::ReduceSum, e, {axis}, true);
    if (logOutput) return binary(OpKind::Sub, shifted, unary(OpKind::Log, sum));
    return binary(OpKind::Div, e, sum);
  }

  bool lowerOp(size_t index, const sema::OpRecord &op) {
    origin = originOf(op.loc) + " " + op.op;
    std::vector<int> in;
    for (int64_t n : op.inputNodes) {
      int v = valueOf(n);
      if (v < 0) {
        diags_.report(Diag::CompileFailed, op.loc, fmt::format("internal: operand of `{}` has no value", op.op));
        return false;
      }
      in.push_back(v);
    }
    int out = -1;
    const std::string &name = op.op;
    if (name == "+" || name == "-" || name == "*" || name == "/") {
      OpKind k = name == "+" ? OpKind::Add : name == "-" ? OpKind::Sub : name == "*" ? OpKind::Mul : OpKind::Div;
      int a = op.call.arg("lhs") ? scalar(op.call, "lhs", 0) : in[0];
      int b = op.call.arg("rhs") ? scalar(op.call, "rhs", 0) : in[op.call.arg("lhs") ? 0 : 1];
      out = binary(k, a, b);
    } else if (name == "neg") {
      out = unary(OpKind::Neg, in[0]);
    } else if (name == "linear") {
      int64_t n = shape(in[0]).dims.back();
      int64_t outDim = op.output.dims.back().size;
      std::string layer = layerName("linear");
      double bound = 1.0 / std::sqrt(double(n));  // PyTorch's nn.Linear initialisation
      int w = param(index, 0, layer + ".weight", Shape{{n, outDim}}, StateDecl::Uniform, bound);
      int mm = add(OpKind::MatMul, {in[0], w}, shapeOf(op.output));
      node(mm).ints = {0, 0};
      out = mm;
      const sema::Value *bias = op.call.arg("bias");
      if (!bias || bias->b) out = binary(OpKind::Add, mm, param(index, 1, layer + ".bias", Shape{{outDim}}, StateDecl::Uniform, bound));
    } else if (name == "embedding") {
      int64_t vocab = op.call.arg("vocab")->i, dim = op.call.arg("dim")->i;
      // Ids straight from the data: every id the data set can hold must have a row.
      if (in[0] == 0 && exp_.data.classes && vocab < *exp_.data.classes) {
        diags_.report(Diag::VocabTooSmall, op.loc, vocab, exp_.data.decl->name, *exp_.data.classes - 1)
            .note(exp_.data.decl->loc, "declared here");
        return false;
      }
      // Unit variance, as PyTorch's N(0, 1), from the uniform initialiser.
      int table = param(index, 0, layerName("embedding") + ".weight", Shape{{vocab, dim}}, StateDecl::Uniform, std::sqrt(3.0));
      out = add(OpKind::Gather, {table, in[0]}, shapeOf(op.output));
    } else if (name == "relu") {
      out = unary(OpKind::Relu, in[0]);
    } else if (name == "gelu") {
      out = unary(OpKind::Gelu, in[0]);
    } else if (name == "tanh") {
      out = unary(OpKind::Tanh, in[0]);
    } else if (name == "sigmoid") {
      out = unary(OpKind::Sigmoid, in[0]);
    } else if (name == "silu") {
      out = binary(OpKind::Mul, in[0], unary(OpKind::Sigmoid, in[0]));
    } else if (name == "leaky_relu") {
      int slope = scalar(op.call, "slope", 0.01);
      int neg = binary(OpKind::Min, in[0], constant(0));
      out = binary(OpKind::Add, unary(OpKind::Relu, in[0]), binary(OpKind::Mul, slope, neg));
    } else if (name == "softmax" || name == "log_softmax") {
      out = softmaxParts(in[0], name == "log_softmax");
    } else if (name == "dropout") {
      std::string key = fmt::format("model.dropout{}.p", layerCount_["dropout"]++);
      if (training_) {
        int p = scalar(op.call, "p", 0, key, sema::Interval{0.0, 1.0, true, false, std::nullopt});
        out = add(OpKind::Dropout, {in[0], p}, shape(in[0]));
        node(out).index = int(index);  // the rng key: the same in forward and backward
      } else {
        out = in[0];
      }
    } else if (name == "layer_norm") {
      int x = in[0];
      int axis = lastAxis(x);
      int64_t n = shape(x).dims.back();
      std::string layer = layerName("layer_norm");
      int centered = binary(OpKind::Sub, x, reduce(OpKind::ReduceMean, x, {axis}, true));
      int var = reduce(OpKind::ReduceMean, unary(OpKind::Square, centered), {axis}, true);
      int eps = scalar(op.call, "eps", 1e-5);
      int normed = binary(OpKind::Mul, centered, unary(OpKind::Rsqrt, binary(OpKind::Add, var, eps)));
      int gamma = param(index, 0, layer + ".weight", Shape{{n}}, StateDecl::Ones, 0);
      int beta = param(index, 1, layer + ".bias", Shape{{n}}, StateDecl::Zeros, 0);
      out = binary(OpKind::Add, binary(OpKind::Mul, normed, gamma), beta);
    } else if (name == "flatten" || name == "unflatten") {
      out = add(OpKind::Reshape, {in[0]}, shapeOf(op.output));
    } else if (name == "concat") {
      out = add(OpKind::Concat, {in[0], in[1]}, shapeOf(op.output));
      node(out).ints = {int64_t(shape(in[0]).rank()) - 1};
    } else if (name == "mean_pool") {
      out = reduce(OpKind::ReduceMean, in[0], {1}, false);
    } else if (name == "positional_embedding") {
      Shape s = shape(in[0]);
      int64_t t = s.dims[1], d = s.dims[2];
      int64_t maxLen = op.call.arg("max_len")->i;
      if (t > maxLen) {
        diags_.report(Diag::SequenceTooLong, op.loc, maxLen, t);
        return false;
      }
      int table = param(index, 0, layerName("positional_embedding") + ".weight", Shape{{maxLen, d}},
                        StateDecl::Uniform, std::sqrt(3.0));
      int rows = table;
      if (t != maxLen) {
        rows = add(OpKind::Slice, {table}, Shape{{t, d}});
        node(rows).ints = {0, 0};
      }
      out = binary(OpKind::Add, in[0], rows);
    } else if (name == "last_step") {
      Shape s = shape(in[0]);
      int slice = add(OpKind::Slice, {in[0]}, Shape{{kBatch, 1, s.dims[2]}});
      node(slice).ints = {1, s.dims[1] - 1};
      out = add(OpKind::Reshape, {slice}, shapeOf(op.output));
    } else {
      Diagnostic &d = diags_.report(Diag::OpNotLowered, op.loc, name);
      if (op.callSite.valid()) d.note(op.callSite, fmt::format("in model `{}` called here", op.via));
      return false;
    }
    if (shape(out) != shapeOf(op.output)) {
      diags_.report(Diag::CompileFailed, op.loc,
                    fmt::format("internal: `{}` lowered to shape {} but sema inferred {}", name, toString(shape(out)),
                                toString(shapeOf(op.output))));
      return false;
    }
    values_[op.outputNode] = out;
    return true;
  }

  // The loss is the batch mean, so that the learning rate does not scale
  // with the batch size (as in PyTorch's default `reduction="mean"`).
  int lowerLoss() {
    const sema::CheckedField &field = exp_.fields.at("loss");
    const sema::Value &call = field.value;
    origin = originOf(field.loc) + " " + call.callee->name;
    std::vector<int> in;
    for (auto &[n, v] : call.fields)
      if (v.kind == sema::Value::Tensor) in.push_back(valueOf(v.s));
    for (int v : in)
      if (v < 0) {
        diags_.report(Diag::CompileFailed, field.loc, "internal: a loss operand has no value");
        return -1;
      }
    const std::string &name = call.callee->name;
    auto batchMean = [&](int perSample) { return reduce(OpKind::ReduceMean, perSample, {0}, false); };
    if (name == "cross_entropy" || name == "nll") {
      int logp = name == "nll" ? in[0] : softmaxParts(in[0], true);
      int picked = add(OpKind::PickColumn, {logp, in[1]}, Shape{{kBatch}});
      int nllPerSample = unary(OpKind::Neg, picked);
      double smoothing = numberArg(call, "label_smoothing", 0);
      if (smoothing > 0) {
        // (1 - ε) · nll + ε · mean over classes of -log p
        int uniform = unary(OpKind::Neg, reduce(OpKind::ReduceMean, logp, {1}, false));
        nllPerSample = binary(OpKind::Add, binary(OpKind::Mul, nllPerSample, constant(1 - smoothing)),
                              binary(OpKind::Mul, uniform, constant(smoothing)));
      }
      return batchMean(nllPerSample);
    }
    if (name == "mse" || name == "l1" || name == "huber") {
      int diff = binary(OpKind::Sub, in[0], in[1]);
      int per;
      if (name == "mse") {
        per = unary(OpKind::Square, diff);
      } else if (name == "l1") {
        per = unary(OpKind::Abs, diff);
      } else {
        double delta = numberArg(call, "delta", 1.0);
        int a = unary(OpKind::Abs, diff);
        int quadratic = binary(OpKind::Mul, unary(OpKind::Square, diff), constant(0.5));
        int linear = binary(OpKind::Mul, binary(OpKind::Sub, a, constant(0.5 * delta)), constant(delta));
        per = add(OpKind::Select, {binary(OpKind::Less, a, constant(delta)), quadratic, linear}, shape(diff));
      }
      std::vector<int64_t> all;
      for (size_t i = 0; i < shape(per).rank(); ++i) all.push_back(int64_t(i));
      return reduce(OpKind::ReduceMean, per, all, false);
    }
    if (name == "binary_cross_entropy") {
      // max(x, 0) - x·t + log(1 + exp(-|x|)): stable for large |x|
      int x = in[0], t = in[1];
      int soft = unary(OpKind::Log, binary(OpKind::Add, constant(1), unary(OpKind::Exp, unary(OpKind::Neg, unary(OpKind::Abs, x)))));
      int per = binary(OpKind::Add, binary(OpKind::Sub, unary(OpKind::Relu, x), binary(OpKind::Mul, x, t)), soft);
      std::vector<int64_t> all;
      for (size_t i = 0; i < shape(per).rank(); ++i) all.push_back(int64_t(i));
      return reduce(OpKind::ReduceMean, per, all, false);
    }
    // sema admits only the stdlib's losses (E0212), and each is lowered above.
    throw std::logic_error("graph builder: no rule for loss `" + name + "`");
  }

  const sema::CheckedExperiment &exp_;
  Diagnostics &diags_;
  bool training_;
  ParamTable &params_;
  std::map<int64_t, int> values_;
  std::map<std::string, int> layerCount_;
  int label_ = -1;
};

}  // namespace

std::string predictionName(const sema::CheckedExperiment &exp) {
  const sema::Value &loss = exp.fields.at("loss").value;
  for (auto &[n, v] : loss.fields)
    if (v.kind == sema::Value::Tensor) return v.s;
  return exp.model.outputs.empty() ? "output" : exp.model.outputs[0].first;
}

std::optional<Module> buildGraph(const sema::CheckedExperiment &exp, Diagnostics &diags) {
  // The runtime reads one label column (a class id or a target).
  auto label = exp.data.fields.find("label");
  if (label != exp.data.fields.end() && !label->second.value.fields.empty() &&
      label->second.value.fields[0].second.kind == sema::Value::Range) {
    diags.report(Diag::LabelColumnsNotLowered, label->second.value.loc);
    return std::nullopt;
  }
  Module m;
  m.experiment = exp.decl->name;
  ParamTable params;
  m.functions.push_back({"train_step", {}});
  m.functions.push_back({"eval_step", {}});
  // Build train first: it owns parameter creation order (and so the state layout).
  if (!Builder(exp, diags, m, m.functions[0], true, params).run()) return std::nullopt;
  if (!Builder(exp, diags, m, m.functions[1], false, params).run()) return std::nullopt;
  if (std::string why = verify(m); !why.empty()) {
    diags.report(Diag::CompileFailed, exp.decl->loc, "internal: invalid graph: " + why);
    return std::nullopt;
  }
  return m;
}

}  // namespace mlc::graph
