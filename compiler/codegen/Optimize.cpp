// Builds the module, checks it with LLVM's verifier, and runs the standard
// new-pass-manager pipeline (O3 by default) tuned for the target machine.
#include "codegen/LLVMCommon.h"

#include <llvm/IR/DiagnosticInfo.h>
#include <llvm/IR/DiagnosticPrinter.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/raw_ostream.h>

#include <stdexcept>

namespace mlc::codegen::detail {

using namespace llvm;

static OptimizationLevel optimizationLevel(int level) {
  switch (level) {
  case 0: return OptimizationLevel::O0;
  case 1: return OptimizationLevel::O1;
  case 2: return OptimizationLevel::O2;
  default: return OptimizationLevel::O3;
  }
}

static void optimize(Module &module, TargetMachine &tm, int level) {
  PipelineTuningOptions tuning;
  tuning.LoopVectorization = level >= 2;
  tuning.SLPVectorization = level >= 2;
  tuning.LoopInterleaving = level >= 2;
  PassBuilder builder(&tm, tuning);
  LoopAnalysisManager lam;
  FunctionAnalysisManager fam;
  CGSCCAnalysisManager cgam;
  ModuleAnalysisManager mam;
  builder.registerModuleAnalyses(mam);
  builder.registerCGSCCAnalyses(cgam);
  builder.registerFunctionAnalyses(fam);  // includes the target's cost model (TTI)
  builder.registerLoopAnalyses(lam);
  builder.crossRegisterProxies(lam, fam, cgam, mam);
  OptimizationLevel o = optimizationLevel(level);
  ModulePassManager passes =
      o == OptimizationLevel::O0 ? builder.buildO0DefaultPipeline(o) : builder.buildPerModuleDefaultPipeline(o);
  passes.run(module, mam);
}

// The vectoriser warns about loops it was asked to vectorise but could not
// (a gather, an indirect store): that is a missed optimisation, not the
// user's problem, so only LLVM's errors are shown.
static void reportErrorsOnly(const DiagnosticInfo &info, void *) {
  if (info.getSeverity() != DS_Error) return;
  std::string text;
  raw_string_ostream out(text);
  DiagnosticPrinterRawOStream printer(out);
  info.print(printer);
  throw std::logic_error("LLVM: " + out.str());
}

std::unique_ptr<Module> buildOptimized(LLVMContext &context, const std::vector<Unit> &units, const Options &options,
                                       TargetMachine &tm) {
  context.setDiagnosticHandlerCallBack(reportErrorsOnly);
  std::unique_ptr<Module> module = emitModule(context, units);
  module->setTargetTriple(tm.getTargetTriple().str());
  module->setDataLayout(tm.createDataLayout());
  // Per-function CPU and features, so every pass and the code generator
  // agree on the target whichever TargetMachine compiles the module later.
  for (Function &f : *module) {
    if (f.isDeclaration())
      continue;
    f.addFnAttr("target-cpu", tm.getTargetCPU());
    f.addFnAttr("target-features", tm.getTargetFeatureString());
  }
  std::string problems;
  raw_string_ostream out(problems);
  if (verifyModule(*module, &out))
    throw std::logic_error("codegen: generated an invalid LLVM module:\n" + out.str());
  optimize(*module, tm, options.optLevel);
  return module;
}

}  // namespace mlc::codegen::detail

namespace mlc::codegen {

std::string emitLLVMText(const std::vector<Unit> &units, const Options &options) {
  std::string error;
  std::unique_ptr<llvm::TargetMachine> tm = detail::createTargetMachine(options, error);
  if (!tm)
    throw std::runtime_error("codegen: no target machine: " + error);
  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> module = detail::buildOptimized(context, units, options, *tm);
  std::string text;
  llvm::raw_string_ostream out(text);
  module->print(out, nullptr);
  return out.str();
}

}  // namespace mlc::codegen
