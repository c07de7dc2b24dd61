// Runs the optimised module in this process with ORC's LLJIT. The JIT sees
// no process symbols: the caller passes the runtime functions the generated
// code calls, and the few libc functions LLVM itself may emit calls to.
#include "codegen/LLVMCommon.h"

#include "abi/plan.h"

#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/Mangling.h>

#include <cstring>

namespace mlc::codegen {

namespace {

class LLJitModule final : public JitModule {
public:
  LLJitModule(std::unique_ptr<llvm::orc::LLJIT> jit, const mlc_plan *plan) : jit_(std::move(jit)), plan_(plan) {}
  const mlc_plan *plan() const override { return plan_; }

private:
  std::unique_ptr<llvm::orc::LLJIT> jit_;  // owns the code the plan points into
  const mlc_plan *plan_;
};

// Loop idiom recognition turns fill and copy loops into these.
const JitModule::Symbols &libcSymbols() {
  static const JitModule::Symbols symbols{{"memset", reinterpret_cast<void *>(&std::memset)},
                                          {"memcpy", reinterpret_cast<void *>(&std::memcpy)},
                                          {"memmove", reinterpret_cast<void *>(&std::memmove)}};
  return symbols;
}

llvm::Error defineSymbols(llvm::orc::LLJIT &jit, const JitModule::Symbols &symbols) {
  llvm::orc::MangleAndInterner mangle(jit.getExecutionSession(), jit.getDataLayout());
  llvm::orc::SymbolMap map;
  auto flags = llvm::JITSymbolFlags::Exported | llvm::JITSymbolFlags::Callable;
  for (const auto *list : {&libcSymbols(), &symbols})
    for (const auto &[name, address] : *list)
      map[mangle(name)] = llvm::JITEvaluatedSymbol(llvm::pointerToJITTargetAddress(address), flags);
  return jit.getMainJITDylib().define(llvm::orc::absoluteSymbols(std::move(map)));
}

}  // namespace

std::unique_ptr<JitModule> JitModule::create(const std::vector<Unit> &units, const Options &options,
                                             const Symbols &symbols, std::string &error) {
  auto fail = [&](llvm::Error e) -> std::unique_ptr<JitModule> {
    error = llvm::toString(std::move(e));
    return nullptr;
  };
  auto builder = detail::targetBuilder(options);
  if (!builder)
    return fail(builder.takeError());
  auto tm = builder->createTargetMachine();
  if (!tm)
    return fail(tm.takeError());
  auto context = std::make_unique<llvm::LLVMContext>();
  std::unique_ptr<llvm::Module> module = detail::buildOptimized(*context, units, options, **tm);

  auto jit = llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(std::move(*builder)).create();
  if (!jit)
    return fail(jit.takeError());
  if (llvm::Error e = defineSymbols(**jit, symbols))
    return fail(std::move(e));
  if (llvm::Error e = (*jit)->addIRModule(llvm::orc::ThreadSafeModule(std::move(module), std::move(context))))
    return fail(std::move(e));
  auto getPlan = (*jit)->lookup("mlc_get_plan");
  if (!getPlan)
    return fail(getPlan.takeError());
  auto *function = llvm::jitTargetAddressToFunction<const mlc_plan *(*)()>(getPlan->getAddress());
  return std::make_unique<LLJitModule>(std::move(*jit), function());
}

}  // namespace mlc::codegen
