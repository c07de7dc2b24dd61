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

#include <algorithm>
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

  int fromC(int e) {
    return kb_.copyFrom(c_, e, mapC_, [&](const Expr &load) {
      return load.buffer == x_ ? kb_.copyFrom(p_, p_.stores[0].value, mapP_) : -1;
    });
  }
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

  // One sweep that steps back after each fusion (the producer's own
  // producer may now fuse), repeated until nothing changes. Which steps
  // read and write each buffer is indexed once and kept up to date, so a
  // candidate costs the distance to its consumer, not a scan of every step:
  // scanning made a model of 200 residual blocks take most of a minute.
  void run() {
    for (Function &f : p_.functions) {
      index(f);
      bool changed = true;
      while (changed) {
        changed = false;
        for (size_t i = 0; i < f.steps.size();) {
          if (tryFuse(f, i)) {
            changed = true;
            while (i > 0 && ids_[--i] < 0) {}  // back to the previous live step
          } else {
            ++i;
          }
        }
      }
      size_t kept = 0;
      for (size_t i = 0; i < f.steps.size(); ++i)
        if (ids_[i] >= 0) {
          if (kept != i) f.steps[kept] = std::move(f.steps[i]);  // never onto itself: that empties it
          ++kept;
        }
      f.steps.resize(kept);
    }
  }

private:
  struct Uses {
    std::vector<int> reads, writes;
  };

  Program &p_;
  std::map<int, int> functionsUsing_;
  // For the function being fused: a stable id per step (parallel to its
  // steps), what each step reads and writes, and who touches each buffer.
  std::vector<int> ids_;
  std::vector<Uses> uses_;  // by step id
  std::map<int, std::set<int>> readers_, writers_;
  int nextId_ = 0;

  void add(int id, const Step &s) {
    Uses u{readsOf(s), writesOf(s)};
    for (int b : u.reads) readers_[b].insert(id);
    for (int b : u.writes) writers_[b].insert(id);
    if (size_t(id) >= uses_.size()) uses_.resize(size_t(id) + 1);
    uses_[size_t(id)] = std::move(u);
  }
  void remove(int id) {
    for (int b : uses_[size_t(id)].reads) readers_[b].erase(id);
    for (int b : uses_[size_t(id)].writes) writers_[b].erase(id);
    uses_[size_t(id)] = {};
  }
  void index(const Function &f) {
    ids_.clear();
    uses_.clear();
    readers_.clear();
    writers_.clear();
    for (const Step &s : f.steps) {
      ids_.push_back(nextId_++);
      add(ids_.back(), s);
    }
  }
  static bool has(const std::vector<int> &list, int b) { return std::find(list.begin(), list.end(), b) != list.end(); }

  bool tryFuse(Function &f, size_t i) {
    const Kernel *pk = std::get_if<Kernel>(&f.steps[i]);
    if (!pk || pk->reduces || pk->stores.size() != 1) return false;
    const Kernel &p = *pk;
    const Store &ps = p.stores[0];
    int x = ps.buffer;
    int pid = ids_[i];
    if (pid < 0) return false;
    if (ps.accumulate || p_.buffers[size_t(x)].region != Region::Scratch || functionsUsing_[x] != 1 ||
        !isRowMajorIndex(p, ps.index) || has(uses_[size_t(pid)].reads, x))
      return false;
    // Exactly one other step touches X, and only by reading it.
    const std::set<int> &xWriters = writers_[x], &xReaders = readers_[x];
    if (xWriters.size() != 1 || *xWriters.begin() != pid || xReaders.size() != 1) return false;
    int cid = *xReaders.begin();
    size_t consumer = i + 1;
    while (consumer < ids_.size() && ids_[consumer] != cid) ++consumer;  // tombstones are -1
    if (consumer == ids_.size()) return false;  // the reader comes first
    const Kernel *ck = std::get_if<Kernel>(&f.steps[consumer]);
    if (!ck || ck->reduces || !(ck->domain == p.domain) || !loadsOnlyAt(*ck, x, p, ps.index)) return false;
    const Kernel &c = *ck;
    const std::vector<int> &pReads = uses_[size_t(pid)].reads;
    for (size_t j = i + 1; j < consumer; ++j)
      if (ids_[j] >= 0)
        for (int b : pReads)
          if (has(uses_[size_t(ids_[j])].writes, b)) return false;
    for (int b : pReads) {
      if (!has(uses_[size_t(cid)].writes, b)) continue;
      for (const Expr &e : p.exprs)
        if (e.op == ExprOp::Load && e.buffer == b && !isRowMajorIndex(p, e.a)) return false;
      for (const Store &s : c.stores)
        if (s.buffer == b && !isRowMajorIndex(c, s.index)) return false;
    }
    Kernel fused = Inliner(p, c, x).run();
    remove(pid);
    remove(cid);
    f.steps[consumer] = std::move(fused);
    add(cid, f.steps[consumer]);
    // The producer's place becomes a tombstone (an empty kernel) until the
    // function is done: erasing from the middle of the step list would move
    // every later step, for every fusion.
    f.steps[i] = Kernel{};
    ids_[i] = -1;
    p_.buffers[size_t(x)].elements = Extent::of(0);
    return true;
  }
};

}  // namespace

void fuseKernels(Program &program) { Fuser(program).run(); }

}  // namespace mlc::loops
