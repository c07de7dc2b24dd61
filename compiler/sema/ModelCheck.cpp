#include "sema/ModelCheck.h"

#include "sema/Shapes.h"

namespace mlc::sema {

size_t ModelInstance::layerCount() const {
  size_t n = 0;
  for (const OpRecord &op : ops)
    if (op.call.callee) ++n;
  return n;
}

namespace {

// State shared by a model and every composite it calls: the call stack
// (recursion) and one budget of operations for the whole expansion.
struct Expansion {
  std::vector<const Decl *> stack;
  size_t ops = 0;
  size_t steps = 0;
  int64_t nextNode = 0;  // value ids across the whole expansion
  bool tooLarge = false;
};

class Instantiator {
public:
  Instantiator(Program &p, Expansion &shared) : p_(p), shared_(shared), stack_(shared.stack) {}

  std::optional<ModelInstance> run(const Decl &model, const Value &config, const InputBinding &binding) {
    if (p_.brokenModels.count(&model)) return std::nullopt;  // its declaration errors are reported
    if (stack_.size() >= kMaxModelDepth) {
      p_.diags.report(Diag::ModelTooDeep, binding.at, kMaxModelDepth);
      return std::nullopt;
    }
    for (const Decl *active : stack_)
      if (active == &model) {
        p_.diags.report(Diag::RecursiveModel, binding.at, model.name).note(model.loc, "declared here");
        return std::nullopt;
      }
    stack_.push_back(&model);
    auto result = body(model, config, binding);
    stack_.pop_back();
    return result;
  }

private:
  std::optional<ModelInstance> body(const Decl &model, const Value &config, const InputBinding &binding) {
    ModelInstance inst;
    inst.model = &model;
    inst.config = config;
    Evaluator eval(p_, model.file);
    eval.onLayerCall = [&](const Value &call, Value &result) {
      if (++shared_.ops > kMaxModelOps) shared_.tooLarge = true;
      if (shared_.tooLarge) return;
      OpRecord op;
      op.loc = call.loc;
      op.output = *result.tensor;
      result.node = op.outputNode = shared_.nextNode++;
      if (call.callee) {
        op.op = call.callee->name;
        for (auto &[n, v] : call.fields) {
          if (v.kind == Value::Tensor) {
            op.inputs.push_back(*v.tensor);
            op.inputNodes.push_back(v.node);
          } else {
            op.call.fields.emplace_back(n, v);
          }
        }
        op.call.kind = Value::Call;
        op.call.callee = call.callee;
      } else {
        op.op = call.s;  // `+`, `-`, `*`, `/` or `neg`; a scalar operand is kept by side
        for (size_t k = 0; k < call.items.size(); ++k) {
          const Value &v = call.items[k];
          if (v.kind == Value::Tensor) {
            op.inputs.push_back(*v.tensor);
            op.inputNodes.push_back(v.node);
          } else {
            op.call.fields.emplace_back(k == 0 ? "lhs" : "rhs", v);
          }
        }
      }
      inst.ops.push_back(std::move(op));
    };
    eval.instantiateModel = [&](const Decl &inner, std::vector<Value> tensors,
                                std::vector<NamedValue> params, Loc at) -> std::optional<Value> {
      Value innerConfig;
      innerConfig.kind = Value::Call;
      innerConfig.callee = &inner;
      innerConfig.fields = std::move(params);
      InputBinding b;
      b.at = at;
      for (Value &t : tensors) {
        b.tensors.push_back(*t.tensor);
        b.nodes.push_back(t.node);
      }
      Instantiator nested(p_, shared_);
      size_t before = p_.diags.all().size();
      auto sub = nested.run(inner, innerConfig, b);
      if (!sub) {
        // Errors inside a composite point into its body; say where it was used.
        p_.diags.noteSince(before, at, fmt::format("in model `{}` called here", inner.name), true);
        return std::nullopt;
      }
      for (OpRecord &op : sub->ops) {
        if (!op.callSite.valid()) {
          op.callSite = at;
          op.via = inner.name;
        }
        inst.ops.push_back(std::move(op));
      }
      if (sub->outputs.size() == 1) {
        Value out;
        out.kind = Value::Tensor;
        out.loc = at;
        out.tensor = std::make_shared<TensorType>(sub->outputs[0].second);
        out.node = sub->outputNodes[0];
        return out;
      }
      Value record;
      record.kind = Value::Record;
      record.loc = at;
      for (auto &[n, t] : sub->outputs) {
        Value out;
        out.kind = Value::Tensor;
        out.loc = at;
        out.tensor = std::make_shared<TensorType>(t);
        out.node = sub->outputNodes[record.fields.size()];
        record.fields.emplace_back(n, out);
      }
      return record;
    };

    Scope scope;
    std::map<std::string, int64_t> ints;
    for (auto &[n, v] : config.fields) {
      scope.values[n] = v;
      // The experiment's own model: its numbers are hyperparameters that
      // code generation may turn into runtime inputs.
      if (stack_.size() == 1 && v.isNumber()) scope.values[n].origin = "model." + n;
      if (v.kind == Value::Int) ints[n] = v.i;
    }
    size_t errorsBefore = p_.diags.errorReports();
    // Inputs bind first, wherever they are written (a late one is reported
    // by checkModelDecl); then the statements run in order.
    size_t inputCount = 0;
    for (const ast::ModelStmt &s : model.model->body)
      if (s.kind == ast::ModelStmt::Input) input(s, inst, scope, ints, binding, inputCount++);
    if (!binding.tensors.empty() && binding.tensors.size() != inputCount && binding.datasetName.empty())
      p_.diags.report(Diag::InputCountMismatch, binding.at, model.name, inputCount, binding.tensors.size());
    bool statementsOk = true;  // a statement can fail quietly (a broken composite, a poisoned name)
    for (const ast::ModelStmt &s : model.model->body)
      if (s.kind != ast::ModelStmt::Input && !shared_.tooLarge) statementsOk &= stmt(s, inst, scope, eval);
    if (shared_.tooLarge && stack_.size() == 1)
      p_.diags.report(Diag::ModelTooLarge, binding.at.valid() ? binding.at : model.loc, model.name, kMaxModelOps, kMaxModelSteps);
    if (inst.outputs.empty() && statementsOk && p_.diags.errorReports() == errorsBefore && !shared_.tooLarge)
      p_.diags.report(Diag::ModelHasNoOutput, model.loc, model.name);
    if (p_.diags.errorReports() > errorsBefore || shared_.tooLarge || !statementsOk) return std::nullopt;
    return inst;
  }

  void input(const ast::ModelStmt &s, ModelInstance &inst, Scope &scope, std::map<std::string, int64_t> &ints,
             const InputBinding &binding, size_t index) {
    scope.values[s.name.text] = Value{};  // poisoned until bound: later uses of a bad input stay quiet
    TensorType declared = declaredTensor(*s.type, ints);
    for (size_t k = 0; k < declared.dims.size(); ++k) {
      const Dim &d = declared.dims[k];
      const Value *named = d.kind == Dim::Var ? scope.find(d.var) : nullptr;
      if ((d.kind == Dim::Const && d.size <= 0) || (named && named->kind != Value::None)) {
        Loc at = k < s.type->dims.size() && s.type->dims[k] ? s.type->dims[k]->loc : s.type->loc;
        p_.diags.report(Diag::BadDimension, at, d.kind == Dim::Const ? std::to_string(d.size) : describe(*named));
        return;
      }
    }
    TensorType actual = declared;
    if (index >= binding.tensors.size() && !binding.datasetName.empty()) {
      p_.diags.report(Diag::UnknownInput, s.loc, inst.model->name, s.name.text, binding.datasetName)
          .note("a dataset feeds its `features` to the model's single input");
      return;
    }
    if (index < binding.tensors.size()) {
      actual = binding.tensors[index];
      bool ok = actual.dtype == declared.dtype && actual.dims.size() == declared.dims.size();
      for (size_t k = 0; ok && k < declared.dims.size(); ++k) {
        const Dim &want = declared.dims[k];
        const Dim &got = actual.dims[k];
        if (want.kind == Dim::Var) {
          auto it = ints.find(want.var);
          if (it == ints.end() && got.kind == Dim::Const) {
            ints[want.var] = got.size;  // `d` in `f32[batch, d]` becomes usable as an int
            Value v;
            v.kind = Value::Int;
            v.i = got.size;
            v.loc = s.loc;
            scope.values[want.var] = v;
          } else if (it == ints.end() && got.kind == Dim::Batch) {
            p_.diags.report(Diag::BatchDimNamed, k < s.type->dims.size() && s.type->dims[k] ? s.type->dims[k]->loc : s.type->loc, want.var)
                .note("write `batch` for the batch dimension");
            return;
          } else if (it == ints.end() || got.kind != Dim::Const || it->second != got.size) {
            ok = false;
          }
        } else {
          ok = want == got;
        }
      }
      if (!ok) {
        std::string want = "`" + toString(declared) + "`", got = "`" + toString(actual) + "`";
        if (!binding.datasetName.empty())
          p_.diags.report(Diag::InputShapeMismatch, binding.at, s.name.text, want, binding.datasetName, got)
              .note(s.loc, "input declared here");
        else
          p_.diags.report(Diag::ShapeMismatch, binding.at, s.name.text, inst.model->name, want, got)
              .note(s.loc, "input declared here");
        return;
      }
    } else {
      for (const Dim &d : declared.dims)
        if (d.kind == Dim::Var) {
          p_.diags.report(Diag::UnboundDimension, s.type->loc, d.var, inst.model->name);
          return;
        }
    }
    inst.inputs.emplace_back(s.name.text, actual);
    Value v;
    v.kind = Value::Tensor;
    v.loc = s.name.loc;
    v.tensor = std::make_shared<TensorType>(actual);
    v.node = index < binding.nodes.size() ? binding.nodes[index] : shared_.nextNode++;
    inst.inputNodes.push_back(v.node);
    inst.namedTensors.emplace_back(s.name.loc, actual);
    scope.values[s.name.text] = v;
  }

  bool stmt(const ast::ModelStmt &s, ModelInstance &inst, Scope &scope, Evaluator &eval) {
    if (++shared_.steps > kMaxModelSteps) shared_.tooLarge = true;
    if (shared_.tooLarge) return false;
    switch (s.kind) {
    case ast::ModelStmt::Input: return false;  // handled above
    case ast::ModelStmt::Let:
    case ast::ModelStmt::Output: {
      auto v = eval.eval(*s.value, nullptr, scope);
      if (!v) {
        scope.values[s.name.text] = Value{};  // poisoned: later uses stay quiet
        return false;
      }
      if (s.kind == ast::ModelStmt::Output) {
        if (v->kind != Value::Tensor) {
          p_.diags.report(Diag::NotATensor, s.value->loc, describe(*v));
          return false;
        }
        if (s.type) {
          TensorType declared = declaredTensor(*s.type, intsOf(scope));
          if (!(declared == *v->tensor)) {
            p_.diags.report(Diag::OutputTypeMismatch, s.value->loc, s.name.text, "`" + toString(declared) + "`",
                            "`" + toString(*v->tensor) + "`")
                .note(s.type->loc, "declared type");
            return false;
          }
        }
        inst.outputs.emplace_back(s.name.text, *v->tensor);
        inst.outputNodes.push_back(v->node);
      }
      if (v->kind == Value::Tensor) inst.namedTensors.emplace_back(s.name.loc, *v->tensor);
      scope.values[s.name.text] = std::move(*v);
      return true;
    }
    case ast::ModelStmt::Repeat: {
      Type count = Type::of(Type::Int);
      auto n = eval.eval(*s.value, &count, scope);
      if (!n) return false;
      if (n->kind != Value::Int || n->i < 0 || n->i > kMaxRepeat) {
        p_.diags.report(Diag::BadRepeatCount, s.value->loc, kMaxRepeat, describe(*n));
        return false;
      }
      for (int64_t i = 0; i < n->i; ++i) {
        if (++shared_.steps > kMaxModelSteps) shared_.tooLarge = true;  // counts even an empty body
        if (shared_.tooLarge) return false;
        if (!s.name.text.empty()) {
          Value index;
          index.kind = Value::Int;
          index.i = i;
          index.loc = s.name.loc;
          scope.values[s.name.text] = index;
        }
        for (const ast::ModelStmt &inner : s.body)
          if (!stmt(inner, inst, scope, eval) || shared_.tooLarge) return false;  // the same error would repeat n times
      }
      return true;
    }
    }
    return false;
  }

  static std::map<std::string, int64_t> intsOf(const Scope &scope) {
    std::map<std::string, int64_t> out;
    for (auto &[n, v] : scope.values)
      if (v.kind == Value::Int) out[n] = v.i;
    return out;
  }

  Program &p_;
  Expansion &shared_;
  std::vector<const Decl *> &stack_;
};

}  // namespace

std::optional<ModelInstance> instantiateModel(Program &program, const Decl &model, const Value &config,
                                              const InputBinding &inputs) {
  Expansion shared;
  auto result = Instantiator(program, shared).run(model, config, inputs);
  program.workSpent += shared.ops + shared.steps;
  return result;
}

}  // namespace mlc::sema
