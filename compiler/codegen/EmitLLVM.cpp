// The module's skeleton: the mlc_step_ctx type, one external step function
// per loops::Function (its kernels called in order, GEMMs as calls into
// libmlcrt), and mlc_get_plan returning the constant plan with the manifest.
#include "codegen/LLVMCommon.h"

#include "abi/plan.h"

#include <llvm/IR/Constants.h>
#include <llvm/IR/DerivedTypes.h>

#include <set>
#include <stdexcept>

namespace mlc::codegen::detail {

using namespace llvm;

Value *loadCtxField(IRBuilder<> &b, const ModuleEnv &env, Value *ctx, CtxField field) {
  unsigned index = unsigned(field);
  Type *type = env.ctxType->getElementType(index);
  Value *address = b.CreateStructGEP(env.ctxType, ctx, index);
  return b.CreateAlignedLoad(type, address, Align(8), "ctx.field");
}

Value *emitExtent(IRBuilder<> &b, const ModuleEnv &env, loops::Extent extent, Value *batch) {
  Value *fixed = ConstantInt::get(env.i64, extent.fixed);
  if (!extent.batched())
    return fixed;
  Value *scaled = b.CreateNSWMul(batch, ConstantInt::get(env.i64, extent.perBatch));
  return extent.fixed ? b.CreateNSWAdd(scaled, fixed) : scaled;
}

// A buffer that planning placed over another one (aliasOf) lives where that
// one lives; follow the chain so either way of recording it works.
static const loops::Buffer &storageOf(const loops::Program &program, int buffer) {
  const loops::Buffer *b = &program.buffers.at(size_t(buffer));
  for (size_t hops = 0; b->aliasOf >= 0; ++hops) {
    if (hops > program.buffers.size())
      throw std::logic_error("codegen: buffer alias cycle at '" + b->name + "'");
    b = &program.buffers.at(size_t(b->aliasOf));
  }
  return *b;
}

Value *emitBufferAddress(IRBuilder<> &b, const ModuleEnv &env, Value *ctx, Value *batch, int buffer) {
  if (buffer < 0 || size_t(buffer) >= env.program.buffers.size())
    throw std::logic_error("codegen: buffer index " + std::to_string(buffer) + " out of range");
  const loops::Buffer &declared = env.program.buffers[size_t(buffer)];
  const loops::Buffer &where = storageOf(env.program, buffer);
  Value *bytes = nullptr;
  switch (where.region) {
  case loops::Region::State:
    bytes = b.CreateInBoundsGEP(b.getInt8Ty(), loadCtxField(b, env, ctx, CtxField::State),
                                ConstantInt::get(env.i64, where.offset));
    break;
  case loops::Region::Io: {
    if (where.slot < 0)
      throw std::logic_error("codegen: io buffer '" + where.name + "' has no slot");
    Value *io = loadCtxField(b, env, ctx, CtxField::Io);
    Value *slot = b.CreateInBoundsGEP(env.i8ptr, io, ConstantInt::get(env.i64, where.slot));
    bytes = b.CreateAlignedLoad(env.i8ptr, slot, Align(8), "io." + where.name);
    break;
  }
  case loops::Region::Scratch: {
    Value *offset = ConstantInt::get(env.i64, where.offset);
    if (where.perSampleOffset)
      offset = b.CreateNSWAdd(offset, b.CreateNSWMul(batch, ConstantInt::get(env.i64, where.perSampleOffset)));
    bytes = b.CreateInBoundsGEP(b.getInt8Ty(), loadCtxField(b, env, ctx, CtxField::Scratch), offset);
    break;
  }
  }
  Type *element = declared.dtype == loops::DType::F32 ? env.f32 : env.i64;
  return b.CreatePointerCast(bytes, PointerType::getUnqual(element), declared.name);
}

static FunctionCallee sgemmDeclaration(const ModuleEnv &env) {
  Type *fptr = PointerType::getUnqual(env.f32);
  Type *params[] = {env.i32, env.i32, env.i64, env.i64, env.i64, env.f32, fptr,
                    env.i64, fptr,    env.i64, env.f32, fptr,    env.i64};
  auto *type = FunctionType::get(Type::getVoidTy(env.module.getContext()), params, false);
  return env.module.getOrInsertFunction("mlcrt_sgemm", type);
}

static void emitGemm(IRBuilder<> &b, const ModuleEnv &env, Value *ctx, Value *batch, const loops::Gemm &g) {
  auto operand = [&](int buffer, int64_t offset) {
    if (env.program.buffers.at(size_t(buffer)).dtype != loops::DType::F32)
      throw std::logic_error("codegen: gemm '" + g.name + "' on a non-f32 buffer");
    return b.CreateInBoundsGEP(env.f32, emitBufferAddress(b, env, ctx, batch, buffer),
                               ConstantInt::get(env.i64, offset));
  };
  auto i64 = [&](int64_t v) { return ConstantInt::get(env.i64, v); };
  Value *args[] = {ConstantInt::get(env.i32, g.transA),
                   ConstantInt::get(env.i32, g.transB),
                   emitExtent(b, env, g.m, batch),
                   emitExtent(b, env, g.n, batch),
                   emitExtent(b, env, g.k, batch),
                   ConstantFP::get(env.f32, g.alpha),
                   operand(g.a, g.offsetA),
                   i64(g.lda),
                   operand(g.b, g.offsetB),
                   i64(g.ldb),
                   ConstantFP::get(env.f32, g.beta),
                   operand(g.c, g.offsetC),
                   i64(g.ldc)};
  b.CreateCall(sgemmDeclaration(env), args);
}

// A kernel over its whole outermost range, or, when its iterations are
// independent, through the runtime's mlcrt_parallel_for, which decides from
// the amount of work whether threads pay off.
static void emitKernelCall(IRBuilder<> &b, const ModuleEnv &env, Value *ctx, Value *batch, const loops::Kernel &kernel) {
  Function *f = emitKernel(env, kernel);
  if (kernel.domain.empty()) {
    b.CreateCall(f, {ctx, ConstantInt::get(env.i64, 0), ConstantInt::get(env.i64, 1)});
    return;
  }
  Value *outer = emitExtent(b, env, kernel.domain[0], batch);
  if (!kernel.parallel) {
    b.CreateCall(f, {ctx, ConstantInt::get(env.i64, 0), outer});
    return;
  }
  Value *work = ConstantInt::get(env.i64, 1);
  for (size_t i = 1; i < kernel.domain.size(); ++i) work = b.CreateMul(work, emitExtent(b, env, kernel.domain[i], batch));
  if (kernel.reduces) work = b.CreateMul(work, emitExtent(b, env, kernel.reduceExtent, batch));
  auto *type = FunctionType::get(Type::getVoidTy(env.module.getContext()),
                                 {PointerType::getUnqual(kernelType(env)), PointerType::getUnqual(env.ctxType), env.i64, env.i64},
                                 false);
  FunctionCallee parallelFor = env.module.getOrInsertFunction("mlcrt_parallel_for", type);
  b.CreateCall(parallelFor, {f, ctx, outer, work});
}

static Function *emitStepFunction(const ModuleEnv &env, const loops::Function &fn) {
  LLVMContext &c = env.module.getContext();
  auto *type = FunctionType::get(Type::getVoidTy(c), {PointerType::getUnqual(env.ctxType)}, false);
  auto *f = Function::Create(type, GlobalValue::ExternalLinkage, "mlc_" + env.prefix + fn.name, env.module);
  f->addFnAttr(Attribute::NoUnwind);
  f->addFnAttr(Attribute::UWTable);  // backtraces through generated code in debuggers and profilers
  Value *ctx = f->getArg(0);
  ctx->setName("ctx");
  IRBuilder<> b(BasicBlock::Create(c, "entry", f));
  Value *batch = loadCtxField(b, env, ctx, CtxField::Batch);
  for (const loops::Step &step : fn.steps) {
    if (const auto *kernel = std::get_if<loops::Kernel>(&step))
      emitKernelCall(b, env, ctx, batch, *kernel);
    else
      emitGemm(b, env, ctx, batch, std::get<loops::Gemm>(step));
  }
  b.CreateRetVoid();
  return f;
}

// A constant global. (Module::getOrInsertGlobal allocates it inside LLVM:
// `new GlobalVariable` here trips g++ 12's -Wmismatched-new-delete on
// LLVM's placement operator new.)
static GlobalVariable *constantGlobal(Module &module, const char *name, Constant *value,
                                      GlobalValue::LinkageTypes linkage) {
  auto *global = cast<GlobalVariable>(module.getOrInsertGlobal(name, value->getType()));
  global->setInitializer(value);
  global->setConstant(true);
  global->setLinkage(linkage);
  return global;
}

// The plan: one mlc_variant {manifest, train, apply, eval} per unit, and
// mlc_get_plan returning {abi_version, variant_count, variants}.
static void emitPlan(Module &module, const std::vector<Constant *> &variants, StructType *variantType) {
  LLVMContext &c = module.getContext();
  auto *i32 = Type::getInt32Ty(c);
  auto *arrayType = ArrayType::get(variantType, variants.size());
  GlobalVariable *array =
      constantGlobal(module, "mlc.variants", ConstantArray::get(arrayType, variants), GlobalValue::InternalLinkage);
  Constant *zero = ConstantInt::get(Type::getInt64Ty(c), 0);
  Constant *first = ConstantExpr::getInBoundsGetElementPtr(arrayType, array, ArrayRef<Constant *>{zero, zero});
  auto *planType = StructType::create(c, {i32, i32, PointerType::getUnqual(variantType)}, "mlc_plan");
  Constant *plan = ConstantStruct::get(
      planType, {ConstantInt::get(i32, MLC_PLAN_ABI_VERSION), ConstantInt::get(i32, variants.size()), first});
  GlobalVariable *planVar = constantGlobal(module, "mlc.plan", plan, GlobalValue::InternalLinkage);

  auto *getType = FunctionType::get(PointerType::getUnqual(planType), false);
  auto *get = Function::Create(getType, GlobalValue::ExternalLinkage, "mlc_get_plan", module);
  get->addFnAttr(Attribute::NoUnwind);
  IRBuilder<> b(BasicBlock::Create(c, "entry", get));
  b.CreateRet(planVar);
}

std::unique_ptr<Module> emitModule(LLVMContext &context, const std::vector<Unit> &units) {
  if (units.empty()) throw std::logic_error("codegen: no program to compile");
  auto module = std::make_unique<Module>("mlc", context);
  auto *i8ptr = Type::getInt8PtrTy(context);
  auto *i64 = Type::getInt64Ty(context);
  auto *f32 = Type::getFloatTy(context);
  // Field for field as mlc_step_ctx in abi/plan.h.
  auto *ctxType = StructType::create(
      context, {i8ptr, i8ptr, PointerType::getUnqual(i8ptr), PointerType::getUnqual(f32), i64, i64, i64},
      "mlc_step_ctx");
  auto *stepPtr = PointerType::getUnqual(
      FunctionType::get(Type::getVoidTy(context), {PointerType::getUnqual(ctxType)}, false));
  // mlc_variant: {const char *manifest_json, train, apply, eval}.
  auto *variantType = StructType::create(context, {i8ptr, stepPtr, stepPtr, stepPtr}, "mlc_variant");
  std::vector<Constant *> variants;
  std::set<std::string> seen;
  for (size_t u = 0; u < units.size(); ++u) {
    ModuleEnv env{*module, units[u].program, ctxType, f32, Type::getInt32Ty(context), i64, i8ptr,
                  u == 0 ? "" : "v" + std::to_string(u) + "_"};
    Constant *train = ConstantPointerNull::get(stepPtr);
    Constant *apply = train, *eval = train;
    for (const loops::Function &fn : units[u].program.functions) {
      if (!seen.insert(env.prefix + fn.name).second || fn.name == "get_plan")
        throw std::logic_error("codegen: step function name '" + fn.name + "' is taken");
      Function *f = emitStepFunction(env, fn);
      if (fn.name == "train_step")
        train = f;
      else if (fn.name == "apply_step")
        apply = f;
      else if (fn.name == "eval_step")
        eval = f;
    }
    Constant *text = ConstantDataArray::getString(context, units[u].manifest, /*AddNull=*/true);
    std::string name = "mlc.manifest" + (u ? "." + std::to_string(u) : std::string());
    GlobalVariable *textVar = constantGlobal(*module, name.c_str(), text, GlobalValue::PrivateLinkage);
    textVar->setUnnamedAddr(GlobalValue::UnnamedAddr::Global);
    Constant *zero = ConstantInt::get(i64, 0);
    Constant *textPtr =
        ConstantExpr::getInBoundsGetElementPtr(text->getType(), textVar, ArrayRef<Constant *>{zero, zero});
    variants.push_back(ConstantStruct::get(variantType, {textPtr, train, apply, eval}));
  }
  emitPlan(*module, variants, variantType);
  return module;
}

}  // namespace mlc::codegen::detail
