// A kernel's expression DAG as IR at one point of its loop nest. Operands
// always have smaller indices, so emitting the needed expressions in index
// order is a topological order (no recursion, however deep the fused chain).
// Everything is re-emitted per scope; LICM and GVN at O3 hoist and merge
// what does not depend on the inner loops.
#include "codegen/LLVMCommon.h"

#include <llvm/IR/Constants.h>

#include <cmath>
#include <stdexcept>

namespace mlc::codegen::detail {

using namespace llvm;
using loops::ExprOp;

namespace {

class ExprEmitter {
public:
  ExprEmitter(IRBuilder<> &b, ExprScope &s) : b_(b), s_(s), exprs_(s.kernel.exprs) {}

  Value *get(int index) {
    if (Value *v = s_.memo[size_t(index)])
      return v;
    Value *v = emit(index, exprs_[size_t(index)]);
    s_.memo[size_t(index)] = v;
    return v;
  }

private:
  [[noreturn]] void fail(int index, const std::string &what) const {
    throw std::logic_error("codegen: kernel '" + s_.kernel.name + "' expr " + std::to_string(index) + ": " + what);
  }

  Value *f32(int index, int operand) {
    Value *v = get(operand);
    if (!v->getType()->isFloatTy())
      fail(index, "operand " + std::to_string(operand) + " is not f32");
    return v;
  }

  Value *i64(int index, int operand) {
    Value *v = get(operand);
    if (!v->getType()->isIntegerTy(64))
      fail(index, "operand " + std::to_string(operand) + " is not i64");
    return v;
  }

  Value *asFloat(Value *flag) {
    return b_.CreateSelect(flag, ConstantFP::get(s_.env.f32, 1.0), ConstantFP::get(s_.env.f32, 0.0));
  }

  Value *call(MathFn fn, std::initializer_list<Value *> args) {
    return b_.CreateCall(mathFunction(s_.env.module, fn), args);
  }

  // a^b: exact or cheaper forms for the constant exponents models use (x^2
  // in losses must work for negative x), else exp(b * log a) with C's signs.
  Value *pow(int index, const loops::Expr &e) {
    Value *a = f32(index, e.a);
    const loops::Expr &exponent = exprs_[size_t(e.b)];
    if (exponent.op == ExprOp::ConstF) {
      float p = float(exponent.f);
      if (p == 1.0f)
        return a;
      if (p == 2.0f)
        return b_.CreateFMul(a, a);
      if (p == 0.5f)
        return b_.CreateUnaryIntrinsic(Intrinsic::sqrt, a);
      if (p == -1.0f)
        return b_.CreateFDiv(ConstantFP::get(s_.env.f32, 1.0), a);
    }
    return call(MathFn::Pow, {a, f32(index, e.b)});
  }

  Value *emit(int index, const loops::Expr &e) {
    const ModuleEnv &env = s_.env;
    switch (e.op) {
    case ExprOp::ConstF: return ConstantFP::get(env.f32, e.f);
    case ExprOp::ConstI: return ConstantInt::get(env.i64, e.i);
    case ExprOp::Var:
      if (e.i < 0 || size_t(e.i) >= s_.vars.size())
        fail(index, "loop variable " + std::to_string(e.i) + " is not in scope here");
      return s_.vars[size_t(e.i)];
    case ExprOp::HParam:
    case ExprOp::Batch: return s_.entry[size_t(index)];
    case ExprOp::Acc:
      if (!s_.acc)
        fail(index, "Acc outside the stores of a reducing kernel");
      return s_.acc;
    case ExprOp::Load: {
      bool isF32 = env.program.buffers[size_t(e.buffer)].dtype == loops::DType::F32;
      Type *type = isF32 ? env.f32 : env.i64;
      Value *address = b_.CreateInBoundsGEP(type, s_.bases[size_t(e.buffer)], i64(index, e.a));
      return b_.CreateAlignedLoad(type, address, Align(isF32 ? 4 : 8), env.program.buffers[size_t(e.buffer)].name);
    }
    case ExprOp::Neg: return b_.CreateFNeg(f32(index, e.a));
    case ExprOp::Exp: return call(MathFn::Exp, {f32(index, e.a)});
    case ExprOp::Log: return call(MathFn::Log, {f32(index, e.a)});
    case ExprOp::Tanh: return call(MathFn::Tanh, {f32(index, e.a)});
    case ExprOp::Cos: return call(MathFn::Cos, {f32(index, e.a)});
    case ExprOp::Sqrt: return b_.CreateUnaryIntrinsic(Intrinsic::sqrt, f32(index, e.a));
    case ExprOp::Floor: return b_.CreateUnaryIntrinsic(Intrinsic::floor, f32(index, e.a));
    case ExprOp::Abs: return b_.CreateUnaryIntrinsic(Intrinsic::fabs, f32(index, e.a));
    case ExprOp::FAdd: return b_.CreateFAdd(f32(index, e.a), f32(index, e.b));
    case ExprOp::FSub: return b_.CreateFSub(f32(index, e.a), f32(index, e.b));
    case ExprOp::FMul: return b_.CreateFMul(f32(index, e.a), f32(index, e.b));
    case ExprOp::FDiv: return b_.CreateFDiv(f32(index, e.a), f32(index, e.b));
    case ExprOp::FMin: return b_.CreateMinNum(f32(index, e.a), f32(index, e.b));
    case ExprOp::FMax: return b_.CreateMaxNum(f32(index, e.a), f32(index, e.b));
    case ExprOp::FPow: return pow(index, e);
    case ExprOp::FLess: return asFloat(b_.CreateFCmpOLT(f32(index, e.a), f32(index, e.b)));
    case ExprOp::Select: {
      Value *cond = get(e.a);
      cond = cond->getType()->isFloatTy() ? b_.CreateFCmpUNE(cond, ConstantFP::get(env.f32, 0.0))
                                          : b_.CreateICmpNE(cond, ConstantInt::get(cond->getType(), 0));
      Value *then = get(e.b), *otherwise = get(e.c);
      if (then->getType() != otherwise->getType())
        fail(index, "select arms differ in type");
      return b_.CreateSelect(cond, then, otherwise);
    }
    // Indices never overflow i64: nsw lets SCEV see affine subscripts.
    case ExprOp::IAdd: return b_.CreateNSWAdd(i64(index, e.a), i64(index, e.b));
    case ExprOp::IMul: return b_.CreateNSWMul(i64(index, e.a), i64(index, e.b));
    case ExprOp::IDiv: return b_.CreateSDiv(i64(index, e.a), i64(index, e.b));
    case ExprOp::IMod: return b_.CreateSRem(i64(index, e.a), i64(index, e.b));
    case ExprOp::IMin: {
      Value *a = i64(index, e.a), *b = i64(index, e.b);
      return b_.CreateSelect(b_.CreateICmpSLT(a, b), a, b);
    }
    case ExprOp::IMax: {
      Value *a = i64(index, e.a), *b = i64(index, e.b);
      return b_.CreateSelect(b_.CreateICmpSGT(a, b), a, b);
    }
    case ExprOp::IEq: {
      Value *a = get(e.a), *b = get(e.b);
      if (a->getType() != b->getType())
        fail(index, "IEq operands differ in type");
      return asFloat(a->getType()->isFloatTy() ? b_.CreateFCmpOEQ(a, b) : b_.CreateICmpEQ(a, b));
    }
    case ExprOp::ToFloat: return b_.CreateSIToFP(i64(index, e.a), env.f32);
    case ExprOp::Rand: {
      // mlc_dropout_u32(stream, counter) >> 8: 24 random bits, which f32
      // holds exactly; times 2^-24 is exact too, so the result is in [0, 1)
      // and bit-identical to the C arithmetic in abi/plan.h.
      Value *stream = s_.entry[size_t(index)];
      Value *counter = b_.CreateTrunc(i64(index, e.a), env.i32);
      Value *low = b_.CreateTrunc(stream, env.i32);
      Value *high = b_.CreateTrunc(b_.CreateLShr(stream, 32), env.i32);
      Value *x = b_.CreateXor(b_.CreateAdd(b_.CreateMul(counter, ConstantInt::get(env.i32, 0x9e3779b1u)), low), high);
      auto xorShift = [&](Value *v, unsigned k) { return b_.CreateXor(v, b_.CreateLShr(v, k)); };
      x = b_.CreateMul(xorShift(x, 16), ConstantInt::get(env.i32, 0x85ebca6bu));
      x = b_.CreateMul(xorShift(x, 13), ConstantInt::get(env.i32, 0xc2b2ae35u));
      Value *bits = b_.CreateLShr(xorShift(x, 16), 8);
      Value *value = b_.CreateSIToFP(bits, env.f32);  // < 2^24: signed is exact
      return b_.CreateFMul(value, ConstantFP::get(env.f32, std::ldexp(1.0, -24)));
    }
    }
    fail(index, "unknown op");
  }

  IRBuilder<> &b_;
  ExprScope &s_;
  const std::vector<loops::Expr> &exprs_;
};

int arity(ExprOp op) {
  switch (op) {
  case ExprOp::ConstF:
  case ExprOp::ConstI:
  case ExprOp::Var:
  case ExprOp::HParam:
  case ExprOp::Batch:
  case ExprOp::Acc: return 0;
  case ExprOp::Load:
  case ExprOp::Neg:
  case ExprOp::Exp:
  case ExprOp::Log:
  case ExprOp::Sqrt:
  case ExprOp::Tanh:
  case ExprOp::Cos:
  case ExprOp::Floor:
  case ExprOp::Abs:
  case ExprOp::ToFloat:
  case ExprOp::Rand: return 1;
  case ExprOp::FAdd:
  case ExprOp::FSub:
  case ExprOp::FMul:
  case ExprOp::FDiv:
  case ExprOp::FMin:
  case ExprOp::FMax:
  case ExprOp::FPow:
  case ExprOp::FLess:
  case ExprOp::IAdd:
  case ExprOp::IMul:
  case ExprOp::IDiv:
  case ExprOp::IMod:
  case ExprOp::IMin:
  case ExprOp::IMax:
  case ExprOp::IEq: return 2;
  case ExprOp::Select: return 3;
  }
  return 0;
}

}  // namespace

Value *emitRandStream(IRBuilder<> &b, const ModuleEnv &env, Value *seed, Value *micro, int64_t key) {
  // mlc_rng_stream(seed, micro, key) in abi/plan.h.
  Value *golden = ConstantInt::get(env.i64, 0x9e3779b97f4a7c15ULL);
  Value *inner = emitMix64(b, b.CreateAdd(b.CreateMul(micro, golden), ConstantInt::get(env.i64, uint64_t(key))));
  return emitMix64(b, b.CreateXor(seed, inner));
}

std::vector<Value *> emitExprs(IRBuilder<> &b, ExprScope &scope, const std::vector<int> &roots) {
  const std::vector<loops::Expr> &exprs = scope.kernel.exprs;
  auto check = [&](int index, int user) {
    if (index < 0 || size_t(index) >= exprs.size() || (user >= 0 && index >= user))
      throw std::logic_error("codegen: kernel '" + scope.kernel.name + "' refers to expr " + std::to_string(index) +
                             (user >= 0 ? " from expr " + std::to_string(user) : std::string()));
  };
  // Mark what the roots need, then emit it in index order.
  std::vector<char> needed(exprs.size(), 0);
  std::vector<int> stack;
  for (int root : roots) {
    check(root, -1);
    stack.push_back(root);
  }
  while (!stack.empty()) {
    int i = stack.back();
    stack.pop_back();
    if (needed[size_t(i)] || scope.memo[size_t(i)])
      continue;
    needed[size_t(i)] = 1;
    const loops::Expr &e = exprs[size_t(i)];
    if (e.op == ExprOp::Load && (e.buffer < 0 || size_t(e.buffer) >= scope.bases.size()))
      throw std::logic_error("codegen: kernel '" + scope.kernel.name + "' loads buffer " + std::to_string(e.buffer));
    const int operands[] = {e.a, e.b, e.c};
    for (int k = 0; k < arity(e.op); ++k) {
      check(operands[k], i);
      stack.push_back(operands[k]);
    }
  }
  ExprEmitter emitter(b, scope);
  for (size_t i = 0; i < exprs.size(); ++i)
    if (needed[i])
      emitter.get(int(i));
  std::vector<Value *> values;
  for (int root : roots)
    values.push_back(emitter.get(root));
  return values;
}

}  // namespace mlc::codegen::detail
