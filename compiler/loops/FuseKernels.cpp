// Elementwise fusion. A producer P (no reduction, one plain store to a
// scratch buffer X at its row-major index) is inlined into the one kernel C
// that reads X when C has P's domain and reads X only at that same index:
// C then computes P's value where it loaded it, and X disappears. Moving
// P's reads down to C is legal when nothing between them writes what P
// reads; when C itself writes a buffer P reads, both must touch it only at
// the row-major index, so every iteration reads before it writes and no
// iteration sees another's write (the in-place `p = p - lr * g`).
//
// A fused-away buffer stays in Program::buffers (ids are stable) with
// elements = 0 and is referenced by no step; planning and the dump skip it.
#include "loops/FuseKernels.h"

#include "loops/KernelBuilder.h"

#include <map>
#include <set>

namespace mlc::loops {
namespace {

std::string baseName(const std::string &name) { return name.rfind("fused_", 0) == 0 ? name.substr(6) : name; }

bool loadsOnlyAt(const Kernel &k, int buffer, const Kernel &ki, int index) {
  for (const Expr &e : k.exprs)
    if (e.op == ExprOp::Load && e.buffer == buffer && !sameExpr(k, e.a, ki, index)) return false;
  return true;
}

// The kernel that computes C with P's value in place of C's loads of X.
// Expressions are rebuilt from the stores down, so what only fed the
// dropped loads' indices is left out.
class Inliner {
public:
  Inliner(const Kernel &p, const Kernel &c, int x)
      : p_(p), c_(c), x_(x), kb_("fused_" + baseName(p.name) + "_" + baseName(c.name), c.domain) {}

  Kernel run() {
    for (const Store &s : c_.stores) kb_.store(s.buffer, fromC(s.index), fromC(s.value), s.accumulate);
    Kernel k = std::move(kb_.kernel());
    k.parallel = p_.parallel && c_.parallel;
    return k;
  }

private:
  const Kernel &p_, &c_;
  int x_;
  KernelBuilder kb_;
  std::map<int, int> mapP_, mapC_;

  int copy(const Kernel &from, int e, std::map<int, int> &map, bool isC) {
    if (e < 0) return -1;
    if (auto it = map.find(e); it != map.end()) return it->second;
    Expr x = from.exprs[size_t(e)];
    int result;
    if (isC && x.op == ExprOp::Load && x.buffer == x_) {
      result = copy(p_, p_.stores[0].value, mapP_, false);
    } else {
      x.a = copy(from, x.a, map, isC);
      x.b = copy(from, x.b, map, isC);
      x.c = copy(from, x.c, map, isC);
      result = kb_.add(x);
    }
    return map[e] = result;
  }
  int fromC(int e) { return copy(c_, e, mapC_, true); }
};

class Fuser {
public:
  explicit Fuser(Program &p) : p_(p) {
    // A buffer seen by two functions is never fused away.
    for (const Function &f : p.functions) {
      std::set<int> seen;
      for (const Step &s : f.steps) {
        for (int b : readsOf(s)) seen.insert(b);
        for (int b : writesOf(s)) seen.insert(b);
      }
      for (int b : seen) ++functionsUsing_[b];
    }
  }

  void run() {
    for (Function &f : p_.functions)
      while (fuseOne(f)) {}
  }

private:
  Program &p_;
  std::map<int, int> functionsUsing_;

  bool fuseOne(Function &f) {
    for (size_t i = 0; i < f.steps.size(); ++i)
      if (tryFuse(f, i)) return true;
    return false;
  }

  bool tryFuse(Function &f, size_t i) {
    const Kernel *pk = std::get_if<Kernel>(&f.steps[i]);
    if (!pk || pk->reduces || pk->stores.size() != 1) return false;
    const Kernel &p = *pk;
    const Store &ps = p.stores[0];
    int x = ps.buffer;
    if (ps.accumulate || p_.buffers[size_t(x)].region != Region::Scratch || functionsUsing_[x] != 1 ||
        !isRowMajorIndex(p, ps.index) || reads(f.steps[i], x))
      return false;
    // Exactly one other step touches X, and only by reading it.
    size_t consumer = 0;
    int touching = 0;
    for (size_t j = 0; j < f.steps.size(); ++j) {
      if (j == i) continue;
      if (writes(f.steps[j], x)) return false;
      if (reads(f.steps[j], x)) {
        consumer = j;
        ++touching;
      }
    }
    if (touching != 1 || consumer < i) return false;
    const Kernel *ck = std::get_if<Kernel>(&f.steps[consumer]);
    if (!ck || ck->reduces || !(ck->domain == p.domain) || !loadsOnlyAt(*ck, x, p, ps.index)) return false;
    const Kernel &c = *ck;
    std::vector<int> pReads = readsOf(f.steps[i]);
    for (size_t j = i + 1; j < consumer; ++j)
      for (int b : pReads)
        if (writes(f.steps[j], b)) return false;
    for (int b : pReads) {
      if (!writes(f.steps[consumer], b)) continue;
      for (const Expr &e : p.exprs)
        if (e.op == ExprOp::Load && e.buffer == b && !isRowMajorIndex(p, e.a)) return false;
      for (const Store &s : c.stores)
        if (s.buffer == b && !isRowMajorIndex(c, s.index)) return false;
    }
    Kernel fused = Inliner(p, c, x).run();
    f.steps[consumer] = std::move(fused);
    f.steps.erase(f.steps.begin() + std::ptrdiff_t(i));
    p_.buffers[size_t(x)].elements = Extent::of(0);
    return true;
  }
};

}  // namespace

void fuseKernels(Program &program) { Fuser(program).run(); }

}  // namespace mlc::loops
