#include "sema/SemaDump.h"

#include <ostream>

namespace mlc::sema {

namespace {

// A call with its explicitly given arguments first and defaults marked,
// e.g. `adamw(lr = 0.001, weight_decay = 0.01 [default])`.
std::string callText(const Value &v) {
  if (v.kind != Value::Call || !v.callee) return toString(v);
  std::string out = v.callee->name + "(";
  for (size_t i = 0; i < v.fields.size(); ++i) {
    const auto &[n, arg] = v.fields[i];
    if (out.back() != '(') out += ", ";
    if (arg.kind == Value::Tensor) {
      out += n + ": " + toString(*arg.tensor);
      continue;
    }
    out += n + " = " + (arg.kind == Value::Call ? callText(arg) : toString(arg));
    if (i < v.defaulted.size() && v.defaulted[i]) out += " [default]";
  }
  return out + ")";
}

std::string valueText(const Value &v) {
  if (v.kind == Value::Call) return callText(v);
  if (v.kind == Value::List) {
    std::string sep = v.s == "then" ? " then " : ", ";
    std::string out;
    for (size_t i = 0; i < v.items.size(); ++i) out += (i ? sep : "") + valueText(v.items[i]);
    return v.s == "then" ? out : "[" + out + "]";
  }
  if (v.kind == Value::Record && v.s == "objective") return v.fields[0].second.s + " " + v.fields[1].second.s;
  if (v.kind == Value::Record && v.s == "on") return valueText(v.fields[0].second) + " on " + valueText(v.fields[1].second);
  return toString(v);
}

void experiment(const CheckedExperiment &exp, std::ostream &out) {
  out << "experiment " << exp.decl->name << '\n';
  const DatasetInfo &data = exp.data;
  out << "  data " << data.decl->name << " = " << callText(data.source) << '\n';
  out << "    features: " << toString(data.features) << '\n';
  out << "    label: " << toString(data.label) << '\n';
  out << "    task: " << data.task;
  if (data.classes) out << " (" << *data.classes << " classes)";
  out << '\n';
  out << "    split:";
  for (auto &[n, f] : data.splits) out << ' ' << n << '=' << f;
  out << '\n';
  for (auto &[n, f] : data.fields)
    if (n == "seed" || n == "shuffle" || n == "normalize") out << "    " << n << ": " << toString(f.value) << '\n';

  const ModelInstance &m = exp.model;
  out << "  model " << callText(m.config) << '\n';
  for (auto &[n, t] : m.inputs) out << "    input " << n << ": " << toString(t) << '\n';
  for (const OpRecord &op : m.ops) {
    out << "    op " << op.op;
    if (op.call.callee) {
      out << callText(op.call).substr(op.op.size());
    } else if (!op.call.fields.empty()) {
      for (const auto &[side, scalar] : op.call.fields) out << "(" << side << " = " << toString(scalar) << ")";
    }
    out << ":";
    for (size_t i = 0; i < op.inputs.size(); ++i) out << (i ? ", " : " ") << toString(op.inputs[i]);
    out << " -> " << toString(op.output) << '\n';
  }
  for (auto &[n, t] : m.outputs) out << "    output " << n << ": " << toString(t) << '\n';

  for (const char *section : {"loss", "metrics", "optimizer", "schedule", "strategy"})
    if (auto it = exp.fields.find(section); it != exp.fields.end())
      out << "  " << section << " = " << valueText(it->second.value) << '\n';
  for (const char *section : {"trainer", "early_stop", "checkpoint", "track", "sweep"}) {
    auto it = exp.fields.find(section);
    if (it == exp.fields.end()) continue;
    out << "  " << section << '\n';
    for (auto &[n, v] : it->second.value.fields) out << "    " << n << " = " << valueText(v) << '\n';
  }
  out << "  produces";
  for (const std::string &metric : exp.metrics) out << ' ' << metric;
  out << '\n';
  for (const SweepDim &d : exp.sweep) {
    out << "  sweep " << d.path << " ~ " << valueText(d.space) << ": " << toString(d.type);
    if (d.structural) out << " structural";
    if (d.finite()) out << ", " << d.count << " values";
    else out << ", continuous";
    if (d.parent >= 0) {
      out << ", when " << exp.sweep[size_t(d.parent)].path << " in [";
      for (size_t i = 0; i < d.when.size(); ++i) out << (i ? ", " : "") << toString(d.when[i]);
      out << ']';
    }
    out << '\n';
  }
}

}  // namespace

void dumpSema(const SemaResult &result, std::ostream &out) {
  for (const CheckedExperiment &exp : result.experiments) experiment(exp, out);
}

}  // namespace mlc::sema
