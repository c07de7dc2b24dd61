#include "graph/GraphDump.h"

#include <fmt/format.h>

namespace mlc::graph {

namespace {

const char *initName(StateDecl::Init i) { return i == StateDecl::Zeros ? "zeros" : i == StateDecl::Ones ? "ones" : "uniform"; }
const char *roleName(StateDecl::Role r) {
  switch (r) {
  case StateDecl::Parameter: return "param";
  case StateDecl::GradAccumulator: return "grad_acc";
  case StateDecl::Moment1: return "moment1";
  case StateDecl::Moment2: return "moment2";
  case StateDecl::Momentum: return "momentum";
  }
  return "?";
}

// Shortest text that reads back as the same double.
std::string number(double x) {
  for (int precision = 1; precision <= 17; ++precision) {
    std::string s = fmt::format("{:.{}g}", x, precision);
    if (std::stod(s) == x) return s;
  }
  return fmt::format("{}", x);
}

std::string attributes(const Module &m, const Node &n) {
  std::vector<std::string> parts;
  switch (n.op) {
  case OpKind::Const: return " " + number(n.scalar);
  case OpKind::HParam: return fmt::format(" ${} `{}`", n.index, m.hparams[size_t(n.index)].key);
  case OpKind::Param: return fmt::format(" @{} `{}`", n.index, m.states[size_t(n.index)].name);
  case OpKind::Input:
  case OpKind::Label:
  case OpKind::Output: parts.push_back(fmt::format("name = \"{}\"", n.name)); break;
  case OpKind::Assign: parts.push_back(fmt::format("to = @{}", n.index)); break;
  case OpKind::Dropout:
  case OpKind::DropoutGrad: parts.push_back(fmt::format("key = {}", n.index)); break;
  case OpKind::MatMul: parts.push_back(fmt::format("transA = {}, transB = {}", n.ints[0], n.ints[1])); break;
  case OpKind::ReduceSum:
  case OpKind::ReduceMean:
  case OpKind::ReduceMax:
    parts.push_back(fmt::format("axes = [{}]", fmt::join(n.ints, ", ")));
    if (n.keepDims) parts.push_back("keep");
    break;
  case OpKind::Transpose: parts.push_back(fmt::format("perm = [{}]", fmt::join(n.ints, ", "))); break;
  case OpKind::Concat: parts.push_back(fmt::format("axis = {}", n.ints[0])); break;
  case OpKind::Slice: parts.push_back(fmt::format("axis = {}, start = {}", n.ints[0], n.ints[1])); break;
  default: break;
  }
  // Autodiff names the gradients it returns (`grad @3`).
  bool named = n.op == OpKind::Input || n.op == OpKind::Label || n.op == OpKind::Output;
  if (!named && !n.name.empty()) parts.push_back(n.name);
  if (n.stopGradient) parts.push_back("detached");  // PyTorch's word for the same thing
  return parts.empty() ? "" : fmt::format(" {{{}}}", fmt::join(parts, ", "));
}

}  // namespace

std::string dumpModule(const Module &m) {
  std::string out = fmt::format("module `{}`\n", m.experiment);
  for (size_t i = 0; i < m.states.size(); ++i) {
    const StateDecl &s = m.states[i];
    out += fmt::format("state @{} `{}` : f32{} {}", i, s.name, toString(s.shape), roleName(s.role));
    if (s.role == StateDecl::Parameter) out += fmt::format(" init = {}", initName(s.init));
    if (s.init == StateDecl::Uniform) out += fmt::format("(±{})", number(s.bound));
    if (s.of >= 0) out += fmt::format(" of @{}", s.of);
    out += "\n";
  }
  for (size_t i = 0; i < m.hparams.size(); ++i) {
    const HParamDecl &h = m.hparams[i];
    if (h.counter) out += fmt::format("hparam ${} `{}` counter\n", i, h.key);
    else out += fmt::format("hparam ${} `{}` = {}\n", i, h.key, number(h.value));
  }
  for (const Function &f : m.functions) {
    out += fmt::format("\nfunc {} {{\n", f.name);
    for (size_t id = 0; id < f.nodes.size(); ++id) {
      const Node &n = f.nodes[id];
      std::string operands;
      for (size_t k = 0; k < n.inputs.size(); ++k) operands += fmt::format("{}%{}", k ? ", " : "", n.inputs[k]);
      std::string line = category(n.op) == OpCategory::Effect
                             ? fmt::format("  {}({}){}", spelling(n.op), operands, attributes(m, n))
                             : fmt::format("  %{} = {}{}{} : {}{}", id, spelling(n.op),
                                           operands.empty() ? "" : "(" + operands + ")", attributes(m, n),
                                           spelling(n.dtype), toString(n.shape));
      if (n.device != Device::Cpu) line += fmt::format(" on {}", spelling(n.device));
      if (!n.origin.empty()) line += fmt::format("  // {}", n.origin);
      out += line + "\n";
    }
    out += "}\n";
  }
  return out;
}

}  // namespace mlc::graph
