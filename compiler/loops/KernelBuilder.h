// What the loop passes share: a kernel builder that hash-conses its
// expressions, structural queries on index expressions, and the buffers a
// step touches. Lowering, fusion and planning must agree on what "the same
// index" means, so the one canonical row-major index lives here.
#pragma once

#include "loops/Loops.h"

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace mlc::loops {

int64_t dtypeBytes(DType t);

/// Builds one kernel. An expression equal to one already added is not added
/// again, so indices computed twice (a load and the store at the same
/// place) are one expression, and structurally equal indices compare equal
/// by id inside one kernel.
class KernelBuilder {
public:
  KernelBuilder(std::string name, std::vector<Extent> domain);

  Kernel &kernel() { return k_; }
  int add(const Expr &e);

  int constF(double v);
  int constI(int64_t v);
  int var(int loop);
  int hparam(int slot);
  int batch();
  int acc();
  int unary(ExprOp op, int a);
  int binary(ExprOp op, int a, int b);
  int select(int cond, int ifTrue, int ifFalse);
  int load(int buffer, int index);
  int rand(int64_t key, int counter);

  /// The canonical affine index: Var(loop) * stride summed in the order
  /// given (stride 1 without the multiply, stride 0 left out), then + base.
  int affine(const std::vector<std::pair<int, int64_t>> &terms, int64_t base = 0);

  void store(int buffer, int index, int value, bool accumulate = false);

  /// Copies expression `e` of another kernel, and what it needs, into this
  /// one; `memo` maps `from`'s ids to ours. `replaceLoad` may answer a Load
  /// with an expression of this kernel to use instead (-1: copy the load):
  /// how fusion puts a producer's value where the consumer read it.
  int copyFrom(const Kernel &from, int e, std::map<int, int> &memo,
               const std::function<int(const Expr &)> &replaceLoad = nullptr);

private:
  Kernel k_;
  std::map<std::tuple<int, int, int, int, uint64_t, int64_t, int>, int> seen_;
};

/// The row-major flat index of a domain point: what every lowered kernel
/// stores at. Loops of extent 1 contribute nothing. -1 when a batched loop
/// is not the outermost (then the strides are not fixed numbers).
int rowMajorIndex(KernelBuilder &b, const std::vector<Extent> &domain);

/// Structural equality of two expressions, possibly in different kernels.
bool sameExpr(const Kernel &ka, int a, const Kernel &kb, int b);

/// Integer arithmetic on loop indices and the batch only (no loads): an
/// index that means the same element wherever it is evaluated.
bool isPureIndex(const Kernel &k, int e);

/// True when `e` is the kernel's row-major index (so distinct iterations
/// touch distinct elements).
bool isRowMajorIndex(const Kernel &k, int e);

/// Buffers a step reads / writes, each once, in order of first reference.
std::vector<int> readsOf(const Step &s);
std::vector<int> writesOf(const Step &s);
bool reads(const Step &s, int buffer);
bool writes(const Step &s, int buffer);

}  // namespace mlc::loops
