// The machine code is generated for: this host's CPU (the JIT, and objects
// that run where they are built) or a portable x86-64-v2 baseline. Only the
// native target is initialised; it is all mlc generates code for.
#include "codegen/LLVMCommon.h"

#include <llvm/Support/TargetSelect.h>

#include <mutex>

namespace mlc::codegen::detail {

using namespace llvm;

void initNativeTarget() {
  static std::once_flag once;
  std::call_once(once, [] {
    InitializeNativeTarget();
    InitializeNativeTargetAsmPrinter();
    InitializeNativeTargetAsmParser();
  });
}

static CodeGenOpt::Level codeGenLevel(int optLevel) {
  switch (optLevel) {
  case 0: return CodeGenOpt::None;
  case 1: return CodeGenOpt::Less;
  case 2: return CodeGenOpt::Default;
  default: return CodeGenOpt::Aggressive;
  }
}

Expected<orc::JITTargetMachineBuilder> targetBuilder(const Options &options) {
  initNativeTarget();
  Expected<orc::JITTargetMachineBuilder> builder =
      options.hostCpu ? orc::JITTargetMachineBuilder::detectHost()
                      : orc::JITTargetMachineBuilder(Triple("x86_64-pc-linux-gnu"));
  if (!builder)
    return builder;
  if (!options.hostCpu)
    builder->setCPU("x86-64-v2");
  // Position independent: objects are linked into PIE executables by the
  // system compiler, and the JIT does not care.
  builder->setRelocationModel(Reloc::PIC_);
  builder->setCodeGenOptLevel(codeGenLevel(options.optLevel));
  return builder;
}

std::unique_ptr<TargetMachine> createTargetMachine(const Options &options, std::string &error) {
  auto builder = targetBuilder(options);
  if (!builder) {
    error = toString(builder.takeError());
    return nullptr;
  }
  auto machine = builder->createTargetMachine();
  if (!machine) {
    error = toString(machine.takeError());
    return nullptr;
  }
  return std::move(*machine);
}

}  // namespace mlc::codegen::detail
