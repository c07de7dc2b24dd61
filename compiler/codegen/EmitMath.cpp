// Float math emitted inline instead of calling libm: a libm call keeps a loop
// from vectorising, and libm's results differ between machines and library
// versions. Each function is one small internal, always-inline LLVM function
// built from plain fmul/fadd (no FMA contraction, no reassociation), so every
// machine computes the same bits. Accuracy, measured by test/unit/CodegenTest:
// exp/log within a few ulp, tanh within 1e-6 absolute (a few ulp relative),
// cos within 1e-6 absolute for |x| up to about 1e5 (range reduction uses a
// three-part pi/2, exact while x * 2/pi < 2^16).
#include "codegen/LLVMCommon.h"

#include <llvm/IR/Constants.h>

#include <cmath>
#include <initializer_list>
#include <utility>

namespace mlc::codegen::detail {

using namespace llvm;

namespace {

class MathBuilder {
public:
  explicit MathBuilder(IRBuilder<> &b) : b(b), f32(b.getFloatTy()), i32(b.getInt32Ty()) {}

  Constant *f(double v) { return ConstantFP::get(f32, v); }
  Constant *i(int32_t v) { return ConstantInt::get(i32, uint64_t(uint32_t(v))); }
  Value *bits(Value *x) { return b.CreateBitCast(x, i32); }
  Value *fromBits(Value *x) { return b.CreateBitCast(x, f32); }

  // Coefficients from the highest degree down.
  Value *horner(Value *x, std::initializer_list<double> coefficients) {
    Value *p = nullptr;
    for (double c : coefficients)
      p = p ? b.CreateFAdd(b.CreateFMul(p, x), f(c)) : f(c);
    return p;
  }

  // 2^n for n in [-126, 127], built in the exponent field.
  Value *pow2(Value *n) { return fromBits(b.CreateShl(b.CreateAdd(n, i(127)), 23)); }

  // Clamps with compare+select so NaN passes through (minnum would drop it).
  Value *clamp(Value *x, double lo, double hi) {
    x = b.CreateSelect(b.CreateFCmpOGT(x, f(hi)), f(hi), x);
    return b.CreateSelect(b.CreateFCmpOLT(x, f(lo)), f(lo), x);
  }

  // e^x = 2^n * (1 + q) for x in [-104, 89] (or NaN): n = round(x / ln 2),
  // r = x - n ln 2 in [-ln2/2, ln2/2] (ln 2 in two parts: n * hi is exact),
  // q = e^r - 1 by its degree-7 Taylor polynomial (truncation < 2^-27).
  std::pair<Value *, Value *> expReduce(Value *x) {
    // Adding 1.5 * 2^23 rounds to an integer without fptosi, which would
    // be poison on NaN; the integer is then read from the low bits.
    const double magic = 12582912.0;
    Value *t = b.CreateFAdd(b.CreateFMul(x, f(1.4426950408889634)), f(magic));
    Value *nf = b.CreateFSub(t, f(magic));
    Value *n = b.CreateSub(bits(t), bits(f(magic)));
    Value *r = b.CreateFSub(b.CreateFSub(x, b.CreateFMul(nf, f(0.693145751953125))),
                            b.CreateFMul(nf, f(1.428606765330187045e-6)));
    Value *tail = horner(r, {1.0 / 5040, 1.0 / 720, 1.0 / 120, 1.0 / 24, 1.0 / 6, 0.5});
    Value *q = b.CreateFAdd(r, b.CreateFMul(b.CreateFMul(r, r), tail));
    return {n, q};
  }

  Value *exp(Value *x) {
    // Below -104 the result is 0, above 89 it is inf; in between n is in
    // [-150, 128] and 2^n is applied in two halves so that subnormal and
    // overflowing results round once, correctly.
    auto [n, q] = expReduce(clamp(x, -104.0, 89.0));
    Value *p = b.CreateFAdd(f(1.0), q);
    Value *half = b.CreateAShr(n, 1);
    return b.CreateFMul(b.CreateFMul(p, pow2(half)), pow2(b.CreateSub(n, half)));
  }

  // tanh |x| = -m / (m + 2) with m = e^(-2|x|) - 1, accurate near 0 too
  // (no 1 - 2/(e^2x + 1) cancellation). tanh(9) rounds to 1 in f32.
  Value *tanh(Value *x) {
    Value *a = clamp(b.CreateUnaryIntrinsic(Intrinsic::fabs, x), 0.0, 9.0);
    auto [n, q] = expReduce(b.CreateFMul(a, f(-2.0)));
    Value *scale = pow2(n);  // n in [-26, 0]
    Value *m = b.CreateFAdd(b.CreateFMul(q, scale), b.CreateFSub(scale, f(1.0)));
    Value *t = b.CreateFDiv(b.CreateFNeg(m), b.CreateFAdd(m, f(2.0)));
    return b.CreateBinaryIntrinsic(Intrinsic::copysign, t, x);
  }

  // log x = e ln 2 + log m with x = 2^e m, m in [sqrt(1/2), sqrt(2)):
  // log m = 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.172, series to s^9.
  Value *log(Value *x) {
    Value *subnormal = b.CreateFCmpOLT(x, f(0x1p-126));
    Value *scaled = b.CreateSelect(subnormal, b.CreateFMul(x, f(0x1p23)), x);
    Value *e = b.CreateSub(b.CreateAnd(b.CreateLShr(bits(scaled), 23), i(0xff)),
                           b.CreateSelect(subnormal, i(127 + 23), i(127)));
    Value *m = fromBits(b.CreateOr(b.CreateAnd(bits(scaled), i(0x7fffff)), i(0x3f800000)));  // [1, 2)
    Value *big = b.CreateFCmpOGT(m, f(1.41421356237309505));
    m = b.CreateSelect(big, b.CreateFMul(m, f(0.5)), m);  // exact
    e = b.CreateAdd(e, b.CreateZExt(big, i32));
    Value *fm = b.CreateFSub(m, f(1.0));  // exact (Sterbenz)
    Value *s = b.CreateFDiv(fm, b.CreateFAdd(fm, f(2.0)));
    Value *s2 = b.CreateFAdd(s, s);
    Value *z = b.CreateFMul(s, s);
    Value *series = b.CreateFMul(z, horner(z, {1.0 / 9, 1.0 / 7, 1.0 / 5, 1.0 / 3}));
    Value *logm = b.CreateFAdd(s2, b.CreateFMul(s2, series));
    Value *ef = b.CreateSIToFP(e, f32);
    Value *result = b.CreateFAdd(b.CreateFMul(ef, f(0.693145751953125)),
                                 b.CreateFAdd(logm, b.CreateFMul(ef, f(1.428606765330187045e-6))));
    // log(+inf) = inf, log(+-0) = -inf, log(x < 0) = log(NaN) = NaN.
    result = b.CreateSelect(b.CreateFCmpOEQ(x, f(INFINITY)), f(INFINITY), result);
    result = b.CreateSelect(b.CreateFCmpOEQ(x, f(0.0)), f(-INFINITY), result);
    return b.CreateSelect(b.CreateFCmpULT(x, f(0.0)), f(NAN), result);
  }

  // cos x: x = k pi/2 + r, |r| <= pi/4, then +-cos r or +-sin r by k mod 4.
  Value *cos(Value *x) {
    Value *k = b.CreateUnaryIntrinsic(Intrinsic::rint, b.CreateFMul(x, f(0.63661977236758134)));
    Value *r = b.CreateFSub(x, b.CreateFMul(k, f(1.5703125)));
    r = b.CreateFSub(r, b.CreateFMul(k, f(4.837512969970703125e-4)));
    r = b.CreateFSub(r, b.CreateFMul(k, f(7.549790126404332e-8)));
    Value *z = b.CreateFMul(r, r);
    Value *c = horner(z, {-1.0 / 3628800, 1.0 / 40320, -1.0 / 720, 1.0 / 24, -0.5, 1.0});
    Value *sinTail = horner(z, {1.0 / 362880, -1.0 / 5040, 1.0 / 120, -1.0 / 6});
    Value *s = b.CreateFAdd(r, b.CreateFMul(b.CreateFMul(r, z), sinTail));
    // quadrant = k mod 4 in float (exact for integral k): no int conversion.
    Value *quadrant = b.CreateFSub(
        k, b.CreateFMul(f(4.0), b.CreateUnaryIntrinsic(Intrinsic::floor, b.CreateFMul(k, f(0.25)))));
    Value *q1 = b.CreateFCmpOEQ(quadrant, f(1.0)), *q2 = b.CreateFCmpOEQ(quadrant, f(2.0));
    Value *q3 = b.CreateFCmpOEQ(quadrant, f(3.0));
    Value *v = b.CreateSelect(b.CreateOr(q1, q3), s, c);
    return b.CreateSelect(b.CreateOr(q1, q2), b.CreateFNeg(v), v);
  }

  // a^b = exp(b log |a|), with C's results for a negative base: an odd
  // integer exponent flips the sign, a non-integer one gives NaN; a^0 = 1.
  Value *pow(Module &module, Value *a, Value *e) {
    Value *la = b.CreateCall(mathFunction(module, MathFn::Log), {b.CreateUnaryIntrinsic(Intrinsic::fabs, a)});
    Value *y = b.CreateCall(mathFunction(module, MathFn::Exp), {b.CreateFMul(e, la)});
    Value *integral = b.CreateFCmpOEQ(b.CreateUnaryIntrinsic(Intrinsic::floor, e), e);
    Value *halfFloor = b.CreateUnaryIntrinsic(Intrinsic::floor, b.CreateFMul(e, f(0.5)));
    Value *odd = b.CreateFCmpOEQ(b.CreateFSub(e, b.CreateFMul(halfFloor, f(2.0))), f(1.0));
    Value *negative = b.CreateSelect(integral, b.CreateSelect(odd, b.CreateFNeg(y), y), f(NAN));
    Value *result = b.CreateSelect(b.CreateFCmpOLT(a, f(0.0)), negative, y);
    return b.CreateSelect(b.CreateFCmpOEQ(e, f(0.0)), f(1.0), result);
  }

private:
  IRBuilder<> &b;
  Type *f32, *i32;
};

const char *nameOf(MathFn fn) {
  switch (fn) {
  case MathFn::Exp: return "mlc.exp";
  case MathFn::Log: return "mlc.log";
  case MathFn::Tanh: return "mlc.tanh";
  case MathFn::Cos: return "mlc.cos";
  case MathFn::Pow: return "mlc.pow";
  }
  return "mlc.unknown";
}

}  // namespace

Function *mathFunction(Module &module, MathFn fn) {
  if (Function *existing = module.getFunction(nameOf(fn)))
    return existing;
  LLVMContext &c = module.getContext();
  Type *f32 = Type::getFloatTy(c);
  std::vector<Type *> params(fn == MathFn::Pow ? 2 : 1, f32);
  auto *f = Function::Create(FunctionType::get(f32, params, false), GlobalValue::InternalLinkage, nameOf(fn), module);
  for (auto attribute : {Attribute::AlwaysInline, Attribute::NoUnwind, Attribute::ReadNone, Attribute::WillReturn})
    f->addFnAttr(attribute);
  IRBuilder<> b(BasicBlock::Create(c, "entry", f));
  MathBuilder m(b);
  Value *x = f->getArg(0);
  Value *result = nullptr;
  switch (fn) {
  case MathFn::Exp: result = m.exp(x); break;
  case MathFn::Log: result = m.log(x); break;
  case MathFn::Tanh: result = m.tanh(x); break;
  case MathFn::Cos: result = m.cos(x); break;
  case MathFn::Pow: result = m.pow(module, x, f->getArg(1)); break;
  }
  b.CreateRet(result);
  return f;
}

Value *emitMix64(IRBuilder<> &b, Value *z) {
  // splitmix64's finaliser, as mlc_mix64 in abi/plan.h.
  Type *i64 = z->getType();
  z = b.CreateMul(b.CreateXor(z, b.CreateLShr(z, 30)), ConstantInt::get(i64, 0xbf58476d1ce4e5b9ULL));
  z = b.CreateMul(b.CreateXor(z, b.CreateLShr(z, 27)), ConstantInt::get(i64, 0x94d049bb133111ebULL));
  return b.CreateXor(z, b.CreateLShr(z, 31));
}

}  // namespace mlc::codegen::detail
