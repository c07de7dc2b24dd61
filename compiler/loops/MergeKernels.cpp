// Multi-output fusion. Two adjacent elementwise kernels over the same
// domain become one loop that makes both kernels' stores: the second reads
// what the first stored at the same point from the first's value instead of
// memory. An optimizer update is five kernels per parameter after lowering
// (first moment, second moment, their two state writes, the parameter); it
// becomes one pass over the parameter. Afterwards a store to a scratch
// buffer that no step reads any more is dropped, with its buffer.
//
// Legal because every store of both kernels is at the row-major index and
// the code generator computes all of a point's values before making its
// stores: each iteration reads the old values of exactly the elements it
// writes, and no iteration sees another's writes.
#include "loops/MergeKernels.h"

#include "loops/KernelBuilder.h"

#include <map>
#include <set>

namespace mlc::loops {
namespace {

bool elementwise(const Kernel &k) {
  if (k.reduces) return false;
  for (const Store &s : k.stores)
    if (s.accumulate || !isRowMajorIndex(k, s.index)) return false;
  return true;
}

bool loadsAtRowMajor(const Kernel &k, int buffer) {
  for (const Expr &e : k.exprs)
    if (e.op == ExprOp::Load && e.buffer == buffer && !isRowMajorIndex(k, e.a)) return false;
  return true;
}

std::string shortName(const std::string &name) { return name.rfind("fused_", 0) == 0 ? name.substr(6) : name; }

// `fused_a_b`, or `fused_<first>_to_<last>` once that grows long (an
// optimizer update merges a dozen ops).
std::string mergedName(const std::string &a, const std::string &b) {
  std::string joined = "fused_" + shortName(a) + "_" + shortName(b);
  if (joined.size() <= 48) return joined;
  std::string first = shortName(a), last = shortName(b);
  auto opAndId = [](const std::string &s, bool front) {
    // `<op>_<id>` pieces: keep the first or last one.
    size_t cut = front ? s.find('_', s.find('_') + 1) : s.rfind('_', s.rfind('_') - 1);
    return cut == std::string::npos ? s : front ? s.substr(0, cut) : s.substr(cut + 1);
  };
  return "fused_" + opAndId(first, true) + "_to_" + opAndId(last, false);
}

// The merged kernel: a's stores, then b's, with b's loads of what a stored
// replaced by the values a stored.
class Merger {
public:
  Merger(const Kernel &a, const Kernel &b) : a_(a), b_(b), kb_(mergedName(a.name, b.name), a.domain) {}

  Kernel run() {
    for (const Store &s : a_.stores) {
      int value = kb_.copyFrom(a_, s.value, fromA_);
      kb_.store(s.buffer, kb_.copyFrom(a_, s.index, fromA_), value);
      storedByA_[s.buffer] = value;  // the last store wins, as in memory
    }
    for (const Store &s : b_.stores) kb_.store(s.buffer, fromB(s.index), fromB(s.value));
    Kernel k = std::move(kb_.kernel());
    k.parallel = a_.parallel && b_.parallel;
    return k;
  }

private:
  int fromB(int e) {
    return kb_.copyFrom(b_, e, fromB_, [&](const Expr &load) {
      auto it = storedByA_.find(load.buffer);
      return it == storedByA_.end() ? -1 : it->second;
    });
  }

  const Kernel &a_, &b_;
  KernelBuilder kb_;
  std::map<int, int> fromA_, fromB_, storedByA_;
};

bool canMerge(const Kernel &a, const Kernel &b) {
  if (!(a.domain == b.domain) || !elementwise(a) || !elementwise(b)) return false;
  // What b reads of a's results, and what a reads of b's, is the same element.
  for (const Store &s : a.stores)
    if (!loadsAtRowMajor(b, s.buffer)) return false;
  for (const Store &s : b.stores)
    if (!loadsAtRowMajor(a, s.buffer)) return false;
  return true;
}

void dropDeadStores(Program &p) {
  std::map<int, int> readers;
  for (const Function &f : p.functions)
    for (const Step &s : f.steps)
      for (int b : readsOf(s)) ++readers[b];
  std::set<int> stillWritten;
  for (Function &f : p.functions)
    for (Step &s : f.steps) {
      Kernel *k = std::get_if<Kernel>(&s);
      if (!k) {
        for (int b : writesOf(s)) stillWritten.insert(b);
        continue;
      }
      std::vector<Store> kept;
      for (const Store &st : k->stores)
        if (p.buffers[size_t(st.buffer)].region != Region::Scratch || readers[st.buffer] > 0 || k->stores.size() == 1)
          kept.push_back(st);
      k->stores = std::move(kept);
      for (const Store &st : k->stores) stillWritten.insert(st.buffer);
    }
  for (size_t b = 0; b < p.buffers.size(); ++b)
    if (p.buffers[b].region == Region::Scratch && !stillWritten.count(int(b)) && !readers[int(b)])
      p.buffers[b].elements = Extent::of(0);
}

}  // namespace

void mergeKernels(Program &program) {
  for (Function &f : program.functions) {
    for (size_t i = 1; i < f.steps.size();) {
      Kernel *a = std::get_if<Kernel>(&f.steps[i - 1]);
      Kernel *b = std::get_if<Kernel>(&f.steps[i]);
      if (a && b && canMerge(*a, *b)) {
        Kernel merged = Merger(*a, *b).run();
        f.steps[i - 1] = std::move(merged);
        f.steps.erase(f.steps.begin() + std::ptrdiff_t(i));
      } else {
        ++i;
      }
    }
  }
  dropDeadStores(program);
}

}  // namespace mlc::loops
