// One loop kernel as an internal function `void(mlc_step_ctx*)`: buffer
// addresses and context leaves are read once at entry, then the domain loops
// (outermost first), the optional reduction, and the stores at each point.
// The outermost loop runs over [begin, end): the step function passes the
// whole range, or hands a parallel kernel to mlcrt_parallel_for, which splits
// it over threads (iterations are independent, so results do not depend on
// the split).
#include "codegen/LLVMCommon.h"

#include <llvm/IR/Constants.h>
#include <llvm/IR/Metadata.h>

#include <functional>
#include <stdexcept>

namespace mlc::codegen::detail {

using namespace llvm;

namespace {

// Asks for vectorisation explicitly: the innermost loop of an elementwise
// kernel is unit-stride by construction, and buffers may alias (in-place
// planning), so the vectoriser has to add runtime overlap checks anyway.
MDNode *vectorizeLoopID(LLVMContext &c) {
  Metadata *enable[] = {MDString::get(c, "llvm.loop.vectorize.enable"),
                        ConstantAsMetadata::get(ConstantInt::getTrue(c))};
  Metadata *ops[] = {nullptr, MDNode::get(c, enable)};
  MDNode *id = MDNode::getDistinct(c, ops);
  id->replaceOperandWith(0, id);
  return id;
}

using LoopBody = std::function<Value *(Value *iv, Value *carried)>;

// for (iv = 0; iv < n; ++iv) carried = body(iv, carried). Returns the value
// carried out of the loop (carriedInit when n <= 0), or null without one.
// The builder is left at the loop's exit.
Value *emitLoop(IRBuilder<> &b, Value *n, const std::string &name, bool vectorize, Value *carriedInit,
                const LoopBody &body, Value *start = nullptr) {
  Function *f = b.GetInsertBlock()->getParent();
  LLVMContext &c = f->getContext();
  BasicBlock *preheader = b.GetInsertBlock();
  BasicBlock *header = BasicBlock::Create(c, name + ".head", f);
  BasicBlock *bodyBlock = BasicBlock::Create(c, name + ".body", f);
  BasicBlock *exit = BasicBlock::Create(c, name + ".exit");
  b.CreateBr(header);

  b.SetInsertPoint(header);
  PHINode *iv = b.CreatePHI(n->getType(), 2, name);
  iv->addIncoming(start ? start : ConstantInt::get(n->getType(), 0), preheader);
  PHINode *carried = nullptr;
  if (carriedInit) {
    carried = b.CreatePHI(carriedInit->getType(), 2, name + ".acc");
    carried->addIncoming(carriedInit, preheader);
  }
  b.CreateCondBr(b.CreateICmpSLT(iv, n), bodyBlock, exit);

  b.SetInsertPoint(bodyBlock);
  Value *next = body(iv, carried);
  Value *ivNext = b.CreateAdd(iv, ConstantInt::get(n->getType(), 1), name + ".next", /*HasNUW=*/true, /*HasNSW=*/true);
  BranchInst *latch = b.CreateBr(header);
  if (vectorize)
    latch->setMetadata(LLVMContext::MD_loop, vectorizeLoopID(c));
  iv->addIncoming(ivNext, b.GetInsertBlock());
  if (carried)
    carried->addIncoming(next, b.GetInsertBlock());

  exit->insertInto(f);
  b.SetInsertPoint(exit);
  return carried;
}

class KernelEmitter {
public:
  KernelEmitter(const ModuleEnv &env, const loops::Kernel &kernel, IRBuilder<> &b) : env_(env), k_(kernel), b_(b) {}

  void emit(Value *ctx, Value *begin, Value *end) {
    begin_ = begin;
    end_ = end;
    Value *batch = loadCtxField(b_, env_, ctx, CtxField::Batch);
    ExprScope scope{env_, k_, {}, {}, {}, nullptr, {}};
    loadBases(scope, ctx, batch);
    loadLeaves(scope, ctx, batch);
    for (const loops::Extent &e : k_.domain)
      extents_.push_back(emitExtent(b_, env_, e, batch));
    reduceExtent_ = k_.reduces ? emitExtent(b_, env_, k_.reduceExtent, batch) : nullptr;
    emitNest(scope, 0);
  }

private:
  void loadBases(ExprScope &scope, Value *ctx, Value *batch) {
    scope.bases.assign(env_.program.buffers.size(), nullptr);
    auto use = [&](int buffer) {
      if (buffer < 0 || size_t(buffer) >= scope.bases.size())
        throw std::logic_error("codegen: kernel '" + k_.name + "' uses buffer " + std::to_string(buffer) +
                               ", out of range");
      if (!scope.bases[size_t(buffer)])
        scope.bases[size_t(buffer)] = emitBufferAddress(b_, env_, ctx, batch, buffer);
    };
    for (const loops::Expr &e : k_.exprs)
      if (e.op == loops::ExprOp::Load)
        use(e.buffer);
    for (const loops::Store &s : k_.stores)
      use(s.buffer);
  }

  // Leaves that read the context are loaded once here: inside the loops
  // LLVM could not hoist them past the stores, which may alias anything.
  void loadLeaves(ExprScope &scope, Value *ctx, Value *batch) {
    scope.entry.assign(k_.exprs.size(), nullptr);
    Value *hparams = nullptr, *seed = nullptr, *micro = nullptr;
    for (size_t i = 0; i < k_.exprs.size(); ++i) {
      const loops::Expr &e = k_.exprs[i];
      if (e.op == loops::ExprOp::Batch) {
        scope.entry[i] = batch;
      } else if (e.op == loops::ExprOp::HParam) {
        if (!hparams)
          hparams = loadCtxField(b_, env_, ctx, CtxField::HParams);
        Value *slot = b_.CreateInBoundsGEP(env_.f32, hparams, ConstantInt::get(env_.i64, e.i));
        scope.entry[i] = b_.CreateAlignedLoad(env_.f32, slot, Align(4), "hparam");
      } else if (e.op == loops::ExprOp::Rand) {
        if (!seed) {
          seed = loadCtxField(b_, env_, ctx, CtxField::Seed);
          micro = loadCtxField(b_, env_, ctx, CtxField::Micro);
        }
        scope.entry[i] = emitRandStream(b_, env_, seed, micro, e.i);
      }
    }
  }

  void emitNest(ExprScope &scope, size_t dim) {
    if (dim == k_.domain.size()) {
      emitPoint(scope);
      return;
    }
    bool innermost = dim + 1 == k_.domain.size() && !k_.reduces;
    Value *n = dim == 0 ? end_ : extents_[dim];
    emitLoop(
        b_, n, "i" + std::to_string(dim), innermost, nullptr,
        [&](Value *iv, Value *) {
          scope.vars.push_back(iv);
          emitNest(scope, dim + 1);
          scope.vars.pop_back();
          return nullptr;
        },
        dim == 0 ? begin_ : nullptr);
  }

  // One domain point: the reduction (in a fixed order: no reassociation, so
  // results are the same run to run and machine to machine), then every
  // store's index and value, then the stores in order. Evaluating first
  // gives each store the values as they were before this point wrote.
  void emitPoint(const ExprScope &outer) {
    ExprScope scope = outer;
    if (k_.reduces) {
      Value *init = ConstantFP::get(env_.f32, k_.init);
      scope.acc = emitLoop(b_, reduceExtent_, "r", false, init, [&](Value *iv, Value *acc) {
        ExprScope inner = outer;
        inner.vars.push_back(iv);
        inner.memo.assign(k_.exprs.size(), nullptr);
        Value *v = emitExprs(b_, inner, {k_.reduceValue})[0];
        if (!v->getType()->isFloatTy())
          throw std::logic_error("codegen: kernel '" + k_.name + "' reduces a non-f32 value");
        return k_.combine == loops::Kernel::Sum ? b_.CreateFAdd(acc, v) : b_.CreateMaxNum(acc, v);
      });
    }
    scope.memo.assign(k_.exprs.size(), nullptr);
    std::vector<int> roots;
    for (const loops::Store &s : k_.stores) {
      roots.push_back(s.index);
      roots.push_back(s.value);
    }
    std::vector<Value *> values = emitExprs(b_, scope, roots);
    for (size_t i = 0; i < k_.stores.size(); ++i)
      emitStore(scope, k_.stores[i], values[2 * i], values[2 * i + 1]);
  }

  void emitStore(const ExprScope &scope, const loops::Store &s, Value *index, Value *value) {
    bool f32 = env_.program.buffers[size_t(s.buffer)].dtype == loops::DType::F32;
    Type *type = f32 ? env_.f32 : env_.i64;
    if (!index->getType()->isIntegerTy(64) || value->getType() != type)
      throw std::logic_error("codegen: kernel '" + k_.name + "' stores to '" +
                             env_.program.buffers[size_t(s.buffer)].name + "' with mismatched types");
    Align align(f32 ? 4 : 8);
    Value *address = b_.CreateInBoundsGEP(type, scope.bases[size_t(s.buffer)], index);
    if (s.accumulate) {
      Value *old = b_.CreateAlignedLoad(type, address, align);
      value = f32 ? b_.CreateFAdd(old, value) : b_.CreateAdd(old, value);
    }
    b_.CreateAlignedStore(value, address, align);
  }

  const ModuleEnv &env_;
  const loops::Kernel &k_;
  IRBuilder<> &b_;
  std::vector<Value *> extents_;
  Value *reduceExtent_ = nullptr;
  Value *begin_ = nullptr, *end_ = nullptr;
};

}  // namespace

FunctionType *kernelType(const ModuleEnv &env) {
  return FunctionType::get(Type::getVoidTy(env.module.getContext()),
                           {PointerType::getUnqual(env.ctxType), env.i64, env.i64}, false);
}

Function *emitKernel(const ModuleEnv &env, const loops::Kernel &kernel) {
  LLVMContext &c = env.module.getContext();
  auto *type = kernelType(env);
  // Internal: the inliner decides whether it folds into the step function.
  auto *f = Function::Create(type, GlobalValue::InternalLinkage, "mlc.kernel." + env.prefix + kernel.name, env.module);
  f->addFnAttr(Attribute::NoUnwind);
  Value *ctx = f->getArg(0);
  ctx->setName("ctx");
  f->getArg(1)->setName("begin");
  f->getArg(2)->setName("end");
  IRBuilder<> b(BasicBlock::Create(c, "entry", f));
  KernelEmitter(env, kernel, b).emit(ctx, f->getArg(1), f->getArg(2));
  b.CreateRetVoid();
  return f;
}

}  // namespace mlc::codegen::detail
