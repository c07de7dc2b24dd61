// Writes the optimised module as a relocatable, position-independent ELF
// object that defines mlc_get_plan, ready for linkExecutable.
#include "codegen/LLVMCommon.h"

#include <llvm/IR/LegacyPassManager.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/raw_ostream.h>

namespace mlc::codegen {

bool emitObject(const std::vector<Unit> &units, const Options &options, const std::string &path, std::string &error) {
  std::unique_ptr<llvm::TargetMachine> tm = detail::createTargetMachine(options, error);
  if (!tm)
    return false;
  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> module = detail::buildOptimized(context, units, options, *tm);

  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec, llvm::sys::fs::OF_None);
  if (ec) {
    error = "cannot write " + path + ": " + ec.message();
    return false;
  }
  // Code generation still runs on the legacy pass manager in LLVM 14.
  llvm::legacy::PassManager passes;
  if (tm->addPassesToEmitFile(passes, out, nullptr, llvm::CGFT_ObjectFile)) {
    error = "the target cannot emit object files";
    return false;
  }
  passes.run(*module);
  out.close();
  if (out.has_error()) {
    error = "cannot write " + path + ": " + out.error().message();
    out.clear_error();
    return false;
  }
  return true;
}

}  // namespace mlc::codegen
