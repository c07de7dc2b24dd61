// `mlc --emit=plan`. Deterministic (FileCheck tests match it):
//
//   plan: state 1344 bytes, 4 io slots, scratch 256 + batch*2048 bytes (65792 at batch 32)
//   buffers:
//     %0  linear0.weight     state    f32  256        state+0
//     %7  train_step/relu_5  scratch  f32  batch*256  256 + batch*1024  in place of %6  live train_step 2..4
//   train_step:
//     0 gemm matmul_3 m=batch n=256 k=64 A=%4 B=%2 C=%5 beta=0 lda=64 ldb=256 ldc=256
//     1 kernel fused_relu_12_dropout_13 [batch, 256] reads %5 writes %6 parallel
//
// Buffers fused away (no elements) are left out; ids are those of the IR.
#include "loops/LoopsDump.h"

#include "loops/KernelBuilder.h"

#include <algorithm>
#include <map>
#include <sstream>

namespace mlc::loops {
namespace {

std::string extent(const Extent &e) {
  std::string batch = e.perBatch == 1 ? "batch" : "batch*" + std::to_string(e.perBatch);
  if (!e.batched()) return std::to_string(e.fixed);
  return e.fixed ? batch + "+" + std::to_string(e.fixed) : batch;
}

std::string domain(const std::vector<Extent> &d) {
  std::string out = "[";
  for (size_t i = 0; i < d.size(); ++i) out += (i ? ", " : "") + extent(d[i]);
  return out + "]";
}

const char *regionName(Region r) {
  switch (r) {
  case Region::State: return "state";
  case Region::Io: return "io";
  case Region::Scratch: return "scratch";
  }
  return "?";
}

std::string place(const Buffer &b) {
  switch (b.region) {
  case Region::State: return "state+" + std::to_string(b.offset);
  case Region::Io: return "io[" + std::to_string(b.slot) + "]";
  case Region::Scratch:
    if (!b.elements.batched()) return std::to_string(b.offset);
    return std::to_string(b.offset) + " + batch*" + std::to_string(b.perSampleOffset);
  }
  return "?";
}

std::string ref(int b) { return "%" + std::to_string(b); }

std::string gemmLine(const Gemm &g) {
  auto operand = [](const char *name, int b, int64_t offset, bool trans) {
    std::string s = std::string(" ") + name + "=" + ref(b);
    if (offset) s += "+" + std::to_string(offset);
    return trans ? s + "^T" : s;
  };
  std::ostringstream os;
  os << "gemm " << g.name << " m=" << extent(g.m) << " n=" << extent(g.n) << " k=" << extent(g.k)
     << operand("A", g.a, g.offsetA, g.transA) << operand("B", g.b, g.offsetB, g.transB)
     << operand("C", g.c, g.offsetC, false);
  if (g.alpha != 1) os << " alpha=" << g.alpha;
  os << " beta=" << g.beta << " lda=" << g.lda << " ldb=" << g.ldb << " ldc=" << g.ldc;
  return os.str();
}

std::string kernelLine(const Kernel &k) {
  std::vector<int> loads, plain, accumulated;
  auto once = [](std::vector<int> &v, int b) {
    if (std::find(v.begin(), v.end(), b) == v.end()) v.push_back(b);
  };
  for (const Expr &e : k.exprs)
    if (e.op == ExprOp::Load) once(loads, e.buffer);
  for (const Store &s : k.stores) once(s.accumulate ? accumulated : plain, s.buffer);
  std::string out = "kernel " + k.name + " " + domain(k.domain);
  if (k.reduces) out += std::string(" reduce ") + (k.combine == Kernel::Max ? "max " : "sum ") + extent(k.reduceExtent);
  auto list = [&](const char *what, const std::vector<int> &v) {
    if (v.empty()) return;
    out += std::string(" ") + what;
    for (int b : v) out += " " + ref(b);
  };
  list("reads", loads);
  list("writes", plain);
  list("accumulates", accumulated);
  if (k.parallel) out += " parallel";
  return out;
}

}  // namespace

std::string dumpPlan(const Program &program, int64_t batch) {
  std::ostringstream os;
  os << "plan: state " << program.stateBytes << " bytes, " << program.ioSlots << " io slots, scratch "
     << program.scratchFixedBytes << " + batch*" << program.scratchPerSampleBytes << " bytes ("
     << program.scratchFixedBytes + program.scratchPerSampleBytes * batch << " at batch " << batch << ")\n";

  // Live ranges: function and first..last step of each scratch buffer.
  std::map<int, std::string> live;
  for (const Function &f : program.functions) {
    std::map<int, std::pair<size_t, size_t>> range;
    for (size_t t = 0; t < f.steps.size(); ++t) {
      std::vector<int> touched = readsOf(f.steps[t]);
      for (int b : writesOf(f.steps[t])) touched.push_back(b);
      for (int b : touched) {
        auto [it, fresh] = range.try_emplace(b, t, t);
        if (!fresh) it->second.second = t;
      }
    }
    for (auto &[b, r] : range)
      if (program.buffers[size_t(b)].region == Region::Scratch)
        live[b] = "live " + f.name + " " + std::to_string(r.first) + ".." + std::to_string(r.second);
  }

  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < program.buffers.size(); ++i) {
    const Buffer &b = program.buffers[i];
    if (b.region == Region::Scratch && b.elements == Extent::of(0)) continue;
    std::string notes = b.aliasOf >= 0 ? "in place of " + ref(b.aliasOf) : "";
    if (auto it = live.find(int(i)); it != live.end()) notes += (notes.empty() ? "" : "  ") + it->second;
    rows.push_back({ref(int(i)), b.name, regionName(b.region), b.dtype == DType::I64 ? "i64" : "f32",
                    extent(b.elements), place(b), notes});
  }
  std::vector<size_t> width(7, 0);
  for (const auto &r : rows)
    for (size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
  os << "buffers:\n";
  for (const auto &r : rows) {
    std::string line;
    for (size_t c = 0; c < r.size(); ++c) line += "  " + r[c] + std::string(width[c] - r[c].size(), ' ');
    while (!line.empty() && line.back() == ' ') line.pop_back();
    os << line << "\n";
  }
  for (const Function &f : program.functions) {
    os << f.name << ":\n";
    for (size_t t = 0; t < f.steps.size(); ++t) {
      const Step &s = f.steps[t];
      const Gemm *g = std::get_if<Gemm>(&s);
      os << "  " << t << " " << (g ? gemmLine(*g) : kernelLine(std::get<Kernel>(s))) << "\n";
    }
  }
  return os.str();
}

}  // namespace mlc::loops
