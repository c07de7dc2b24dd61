#include "loops/KernelBuilder.h"

#include <algorithm>
#include <bit>

namespace mlc::loops {

int64_t dtypeBytes(DType t) { return t == DType::I64 ? 8 : 4; }

KernelBuilder::KernelBuilder(std::string name, std::vector<Extent> domain) {
  k_.name = std::move(name);
  k_.domain = std::move(domain);
}

int KernelBuilder::add(const Expr &e) {
  auto key = std::make_tuple(int(e.op), e.a, e.b, e.c, std::bit_cast<uint64_t>(e.f), e.i, e.buffer);
  auto [it, fresh] = seen_.try_emplace(key, int(k_.exprs.size()));
  if (fresh) k_.exprs.push_back(e);
  return it->second;
}

int KernelBuilder::copyFrom(const Kernel &from, int e, std::map<int, int> &memo,
                            const std::function<int(const Expr &)> &replaceLoad) {
  if (e < 0) return -1;
  if (auto it = memo.find(e); it != memo.end()) return it->second;
  Expr x = from.exprs[size_t(e)];
  int result = x.op == ExprOp::Load && replaceLoad ? replaceLoad(x) : -1;
  if (result < 0) {
    x.a = copyFrom(from, x.a, memo, replaceLoad);
    x.b = copyFrom(from, x.b, memo, replaceLoad);
    x.c = copyFrom(from, x.c, memo, replaceLoad);
    result = add(x);
  }
  return memo[e] = result;
}

int KernelBuilder::constF(double v) {
  Expr e;
  e.op = ExprOp::ConstF;
  e.f = v;
  return add(e);
}

int KernelBuilder::constI(int64_t v) {
  Expr e;
  e.op = ExprOp::ConstI;
  e.i = v;
  return add(e);
}

int KernelBuilder::var(int loop) {
  Expr e;
  e.op = ExprOp::Var;
  e.i = loop;
  return add(e);
}

int KernelBuilder::hparam(int slot) {
  Expr e;
  e.op = ExprOp::HParam;
  e.i = slot;
  return add(e);
}

int KernelBuilder::batch() {
  Expr e;
  e.op = ExprOp::Batch;
  return add(e);
}

int KernelBuilder::acc() {
  Expr e;
  e.op = ExprOp::Acc;
  return add(e);
}

int KernelBuilder::unary(ExprOp op, int a) {
  Expr e;
  e.op = op;
  e.a = a;
  return add(e);
}

int KernelBuilder::binary(ExprOp op, int a, int b) {
  Expr e;
  e.op = op;
  e.a = a;
  e.b = b;
  return add(e);
}

int KernelBuilder::select(int cond, int ifTrue, int ifFalse) {
  Expr e;
  e.op = ExprOp::Select;
  e.a = cond;
  e.b = ifTrue;
  e.c = ifFalse;
  return add(e);
}

int KernelBuilder::load(int buffer, int index) {
  Expr e;
  e.op = ExprOp::Load;
  e.a = index;
  e.buffer = buffer;
  return add(e);
}

int KernelBuilder::rand(int64_t key, int counter) {
  Expr e;
  e.op = ExprOp::Rand;
  e.i = key;
  e.a = counter;
  return add(e);
}

int KernelBuilder::affine(const std::vector<std::pair<int, int64_t>> &terms, int64_t base) {
  int sum = -1;
  for (auto [loop, stride] : terms) {
    if (stride == 0) continue;
    int term = stride == 1 ? var(loop) : binary(ExprOp::IMul, var(loop), constI(stride));
    sum = sum < 0 ? term : binary(ExprOp::IAdd, sum, term);
  }
  if (sum < 0) return constI(base);
  return base == 0 ? sum : binary(ExprOp::IAdd, sum, constI(base));
}

void KernelBuilder::store(int buffer, int index, int value, bool accumulate) {
  k_.stores.push_back({buffer, index, value, accumulate});
}

int rowMajorIndex(KernelBuilder &b, const std::vector<Extent> &domain) {
  std::vector<std::pair<int, int64_t>> terms(domain.size());
  int64_t stride = 1;
  for (size_t d = domain.size(); d-- > 0;) {
    terms[d] = {int(d), domain[d] == Extent::of(1) ? 0 : stride};
    if (domain[d].batched() && d > 0) return -1;
    stride *= domain[d].fixed;
  }
  return b.affine(terms);
}

bool sameExpr(const Kernel &ka, int a, const Kernel &kb, int b) {
  if (a < 0 || b < 0) return a == b;
  if (&ka == &kb && a == b) return true;
  const Expr &x = ka.exprs[size_t(a)], &y = kb.exprs[size_t(b)];
  return x.op == y.op && std::bit_cast<uint64_t>(x.f) == std::bit_cast<uint64_t>(y.f) && x.i == y.i &&
         x.buffer == y.buffer && sameExpr(ka, x.a, kb, y.a) && sameExpr(ka, x.b, kb, y.b) &&
         sameExpr(ka, x.c, kb, y.c);
}

bool isPureIndex(const Kernel &k, int e) {
  if (e < 0) return true;
  const Expr &x = k.exprs[size_t(e)];
  switch (x.op) {
  case ExprOp::Var:
  case ExprOp::ConstI:
  case ExprOp::Batch: return true;
  case ExprOp::IAdd:
  case ExprOp::IMul:
  case ExprOp::IDiv:
  case ExprOp::IMod: return isPureIndex(k, x.a) && isPureIndex(k, x.b);
  default: return false;
  }
}

bool isRowMajorIndex(const Kernel &k, int e) {
  KernelBuilder canonical("", k.domain);
  int index = rowMajorIndex(canonical, k.domain);
  return index >= 0 && isPureIndex(k, e) && sameExpr(canonical.kernel(), index, k, e);
}

namespace {

void addOnce(std::vector<int> &list, int buffer) {
  if (buffer >= 0 && std::find(list.begin(), list.end(), buffer) == list.end()) list.push_back(buffer);
}

}  // namespace

std::vector<int> readsOf(const Step &s) {
  std::vector<int> out;
  if (const Gemm *g = std::get_if<Gemm>(&s)) {
    addOnce(out, g->a);
    addOnce(out, g->b);
    if (g->beta != 0) addOnce(out, g->c);
    return out;
  }
  const Kernel &k = std::get<Kernel>(s);
  for (const Expr &e : k.exprs)
    if (e.op == ExprOp::Load) addOnce(out, e.buffer);
  // An accumulating store reads the old value.
  for (const Store &st : k.stores)
    if (st.accumulate) addOnce(out, st.buffer);
  return out;
}

std::vector<int> writesOf(const Step &s) {
  std::vector<int> out;
  if (const Gemm *g = std::get_if<Gemm>(&s)) {
    addOnce(out, g->c);
    return out;
  }
  for (const Store &st : std::get<Kernel>(s).stores) addOnce(out, st.buffer);
  return out;
}

bool reads(const Step &s, int buffer) {
  std::vector<int> r = readsOf(s);
  return std::find(r.begin(), r.end(), buffer) != r.end();
}

bool writes(const Step &s, int buffer) {
  std::vector<int> w = writesOf(s);
  return std::find(w.begin(), w.end(), buffer) != w.end();
}

}  // namespace mlc::loops
