// What the codegen stage's .cpp files share. Only they include this header:
// it pulls in LLVM's, which the rest of the compiler never sees.
//
// A malformed loop program (an operand out of range, a type mismatch) is a
// compiler bug, not a user error: the emitters throw std::logic_error, which
// the driver reports as an internal compiler error.
#pragma once

#include "codegen/Codegen.h"
#include "loops/Loops.h"

#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Module.h>
#include <llvm/Target/TargetMachine.h>

#include <memory>
#include <string>
#include <vector>

namespace mlc::codegen::detail {

/// The module being built and the types every part of it shares.
struct ModuleEnv {
  llvm::Module &module;
  const loops::Program &program;
  llvm::StructType *ctxType;  // mlc_step_ctx, field for field as in abi/plan.h
  llvm::Type *f32, *i32, *i64;
  llvm::PointerType *i8ptr;
  std::string prefix;  // of this variant's function names: "" for the first, "v1_" ...
};

/// mlc_step_ctx's fields, in declaration order.
enum class CtxField : unsigned { State, Scratch, Io, HParams, Batch, Seed, Micro };

// EmitLLVM.cpp: the module, the step functions, GEMM calls and the plan.
std::unique_ptr<llvm::Module> emitModule(llvm::LLVMContext &context, const std::vector<Unit> &units);
llvm::Value *loadCtxField(llvm::IRBuilder<> &b, const ModuleEnv &env, llvm::Value *ctx, CtxField field);
/// Typed (float* or i64*) base address of a buffer in this step.
llvm::Value *emitBufferAddress(llvm::IRBuilder<> &b, const ModuleEnv &env, llvm::Value *ctx, llvm::Value *batch,
                               int buffer);
llvm::Value *emitExtent(llvm::IRBuilder<> &b, const ModuleEnv &env, loops::Extent extent, llvm::Value *batch);

// EmitKernel.cpp: one loop kernel as an internal function
// `void(ctx*, i64 begin, i64 end)` over [begin, end) of its outermost loop.
llvm::FunctionType *kernelType(const ModuleEnv &env);
llvm::Function *emitKernel(const ModuleEnv &env, const loops::Kernel &kernel);

// EmitExpr.cpp: the expression DAG at one point of a kernel's loop nest.
struct ExprScope {
  const ModuleEnv &env;
  const loops::Kernel &kernel;
  std::vector<llvm::Value *> bases;    // per program buffer, loaded at kernel entry; null when unused
  std::vector<llvm::Value *> entry;    // per expr: HParam/Batch values, Rand stream keys (kernel entry)
  std::vector<llvm::Value *> vars;     // induction variables in scope: domain loops, then the reduction
  llvm::Value *acc = nullptr;          // the reduction's result, once the reduction loop is done
  std::vector<llvm::Value *> memo;     // per expr, emitted in this scope
};
/// Emits `roots` (and what they need) in index order; returns their values.
std::vector<llvm::Value *> emitExprs(llvm::IRBuilder<> &b, ExprScope &scope, const std::vector<int> &roots);
/// Rand's per-(seed, micro, key) stream value, computed once per kernel call.
llvm::Value *emitRandStream(llvm::IRBuilder<> &b, const ModuleEnv &env, llvm::Value *seed, llvm::Value *micro,
                            int64_t key);

// EmitMath.cpp: inline, vectorisable float math (no libm calls).
enum class MathFn { Exp, Log, Tanh, Cos, Pow };
llvm::Function *mathFunction(llvm::Module &module, MathFn fn);
llvm::Value *emitMix64(llvm::IRBuilder<> &b, llvm::Value *z);

// Target.cpp: the native target and a TargetMachine for the options.
void initNativeTarget();
llvm::Expected<llvm::orc::JITTargetMachineBuilder> targetBuilder(const Options &options);
std::unique_ptr<llvm::TargetMachine> createTargetMachine(const Options &options, std::string &error);

// Optimize.cpp: emit, verify and optimise the module for `tm`.
std::unique_ptr<llvm::Module> buildOptimized(llvm::LLVMContext &context, const std::vector<Unit> &units,
                                             const Options &options, llvm::TargetMachine &tm);

}  // namespace mlc::codegen::detail
