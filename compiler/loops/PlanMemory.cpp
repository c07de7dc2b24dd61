// Scratch memory planning. Each function is planned on its own (scratch is
// dead between steps, so functions never share live buffers); the arenas
// are as large as the largest function needs.
//
// A buffer is live from the first step that touches it to the last. Two
// arenas are planned separately: fixed buffers in bytes, batched buffers in
// bytes per sample (so one plan fits every batch size). Every size and
// offset is a multiple of 64 bytes, hence so is perSampleOffset * batch.
//
// In place: an elementwise kernel that first writes buffer O at its
// row-major index, reading an input I of the same size only at that index,
// with I dying there, writes O over I (O.aliasOf = I). Each iteration reads
// I[i] before it writes O[i], and no other iteration touches element i.
// Chains of such buffers form one block, placed greedily: largest first,
// then earliest, at the lowest offset free for the block's whole lifetime.
#include "loops/PlanMemory.h"

#include "loops/KernelBuilder.h"

#include <algorithm>
#include <map>
#include <stdexcept>

namespace mlc::loops {
namespace {

constexpr int64_t kAlign = 64;
int64_t alignUp(int64_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

struct Live {
  int first = -1, last = -1;
};

// Buffers that share one place: an in-place chain, keyed by its first buffer.
struct Block {
  int root;
  bool batched;
  int64_t bytes;  // per sample when batched
  Live live;
  int64_t offset = 0;
};

bool overlaps(const Live &a, const Live &b) { return a.first <= b.last && b.first <= a.last; }

class Planner {
public:
  explicit Planner(Program &p) : p_(p) {}

  void run() {
    for (Buffer &b : p_.buffers)
      if (b.region == Region::Scratch) {
        b.aliasOf = -1;
        b.offset = b.perSampleOffset = 0;
      }
    std::vector<int> owner(p_.buffers.size(), -1);
    int64_t fixedPeak = 0, perSamplePeak = 0;
    for (size_t fi = 0; fi < p_.functions.size(); ++fi) {
      const Function &f = p_.functions[fi];
      std::map<int, Live> live = liveness(f);
      for (auto &[b, range] : live) {
        if (owner[size_t(b)] >= 0)
          throw std::logic_error("scratch buffer `" + p_.buffers[size_t(b)].name + "` is used by two functions");
        owner[size_t(b)] = int(fi);
      }
      std::vector<Block> blocks = inPlaceBlocks(f, live);
      fixedPeak = std::max(fixedPeak, place(blocks, false));
      perSamplePeak = std::max(perSamplePeak, place(blocks, true));
      for (const Block &bl : blocks) record(bl);
    }
    // Batched buffers sit after the whole fixed part.
    for (Buffer &b : p_.buffers)
      if (b.region == Region::Scratch && b.elements.batched()) b.offset = fixedPeak;
    p_.scratchFixedBytes = fixedPeak;
    p_.scratchPerSampleBytes = perSamplePeak;
  }

private:
  Program &p_;
  std::map<int, std::vector<int>> members_;  // block root → buffers, in chain order

  bool planned(int b) const {
    const Buffer &buf = p_.buffers[size_t(b)];
    return buf.region == Region::Scratch && !(buf.elements == Extent::of(0));
  }

  std::map<int, Live> liveness(const Function &f) const {
    std::map<int, Live> live;
    for (int t = 0; t < int(f.steps.size()); ++t) {
      auto touch = [&](int b) {
        if (!planned(b)) return;
        Live &l = live[b];
        if (l.first < 0) l.first = t;
        l.last = t;
      };
      for (int b : readsOf(f.steps[size_t(t)])) touch(b);
      for (int b : writesOf(f.steps[size_t(t)])) touch(b);
    }
    return live;
  }

  int64_t bytesOf(int b) const {
    const Buffer &buf = p_.buffers[size_t(b)];
    if (buf.elements.fixed && buf.elements.perBatch)
      throw std::logic_error("buffer `" + buf.name + "` is part fixed, part batched");
    return alignUp((buf.elements.batched() ? buf.elements.perBatch : buf.elements.fixed) * dtypeBytes(buf.dtype));
  }

  // The input kernel `k` at step `t` may overwrite with its output, or -1.
  int inPlaceInput(const Kernel &k, int t, std::map<int, Live> &live) const {
    if (k.reduces || k.stores.size() != 1) return -1;
    const Store &s = k.stores[0];
    int out = s.buffer;
    if (s.accumulate || !planned(out) || live[out].first != t || !isRowMajorIndex(k, s.index)) return -1;
    const Buffer &ob = p_.buffers[size_t(out)];
    for (const Expr &e : k.exprs) {
      if (e.op != ExprOp::Load || e.buffer == out || !planned(e.buffer)) continue;
      int in = e.buffer;
      const Buffer &ib = p_.buffers[size_t(in)];
      if (live[in].last != t || ib.dtype != ob.dtype || !(ib.elements == ob.elements)) continue;
      bool sameIndex = true;
      for (const Expr &l : k.exprs)
        if (l.op == ExprOp::Load && l.buffer == in && !sameExpr(k, l.a, k, s.index)) sameIndex = false;
      if (sameIndex) return in;
    }
    return -1;
  }

  std::vector<Block> inPlaceBlocks(const Function &f, std::map<int, Live> &live) {
    std::map<int, int> rootOf;
    for (auto &[b, range] : live) rootOf[b] = b;
    for (int t = 0; t < int(f.steps.size()); ++t) {
      const Kernel *k = std::get_if<Kernel>(&f.steps[size_t(t)]);
      if (!k) continue;
      int in = inPlaceInput(*k, t, live);
      if (in < 0) continue;
      int out = k->stores[0].buffer;
      p_.buffers[size_t(out)].aliasOf = in;
      rootOf[out] = rootOf[in];
    }
    std::map<int, Block> blocks;
    for (auto &[b, range] : live) {
      int root = rootOf[b];
      Block fresh{root, p_.buffers[size_t(b)].elements.batched(), bytesOf(b), range};
      auto [it, added] = blocks.try_emplace(root, fresh);
      if (!added) {
        it->second.live.first = std::min(it->second.live.first, range.first);
        it->second.live.last = std::max(it->second.live.last, range.last);
      }
      members_[root].push_back(b);
    }
    std::vector<Block> out;
    for (auto &[root, bl] : blocks) out.push_back(bl);
    return out;
  }

  // First fit, largest blocks first; returns the arena's peak.
  int64_t place(std::vector<Block> &blocks, bool batched) const {
    std::vector<Block *> order;
    for (Block &b : blocks)
      if (b.batched == batched) order.push_back(&b);
    std::stable_sort(order.begin(), order.end(), [](const Block *a, const Block *b) {
      if (a->bytes != b->bytes) return a->bytes > b->bytes;
      if (a->live.first != b->live.first) return a->live.first < b->live.first;
      return a->root < b->root;
    });
    int64_t peak = 0;
    std::vector<const Block *> placed;
    for (Block *b : order) {
      std::vector<const Block *> busy;
      for (const Block *o : placed)
        if (overlaps(o->live, b->live)) busy.push_back(o);
      std::sort(busy.begin(), busy.end(), [](const Block *x, const Block *y) { return x->offset < y->offset; });
      int64_t offset = 0;
      for (const Block *o : busy) {
        if (o->offset >= offset + b->bytes) break;
        offset = std::max(offset, o->offset + o->bytes);
      }
      b->offset = offset;
      peak = std::max(peak, offset + b->bytes);
      placed.push_back(b);
    }
    return peak;
  }

  void record(const Block &bl) {
    for (int b : members_[bl.root]) {
      Buffer &buf = p_.buffers[size_t(b)];
      if (bl.batched) buf.perSampleOffset = bl.offset;
      else buf.offset = bl.offset;
    }
  }
};

}  // namespace

void planMemory(Program &program) { Planner(program).run(); }

int64_t bytesPerRank(const Program &program, int64_t batch) {
  int64_t io = 0;
  for (const Buffer &b : program.buffers)
    if (b.region == Region::Io && b.aliasOf < 0)
      io += (b.elements.fixed + b.elements.perBatch * batch) * (b.dtype == DType::F32 ? 4 : 8);
  return program.stateBytes + program.scratchFixedBytes + program.scratchPerSampleBytes * batch + io;
}

}  // namespace mlc::loops
