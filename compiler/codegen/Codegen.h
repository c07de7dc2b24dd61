// Code generation: the loop IR becomes one LLVM module (a function per
// kernel, the step functions that call them in order, and mlc_get_plan
// with the manifest), optimised at O3 for the host CPU. The module is then
// printed, written as an object file, or run in-process through ORC JIT.
// LLVM's headers stay inside this stage's .cpp files.
#pragma once

#include "loops/Loops.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

struct mlc_plan;

namespace mlc::codegen {

struct Options {
  int optLevel = 3;
  /// Tune for this machine's CPU (JIT, and objects run where they are
  /// built). Otherwise target a portable x86-64-v2 baseline.
  bool hostCpu = true;
};

/// One compiled variant of the experiment: its step program and manifest.
/// A sweep over structural parameters has several; the plan lists them in
/// this order.
struct Unit {
  const loops::Program &program;
  const std::string &manifest;
};

/// The module's textual IR (`--emit=llvm`), after optimisation.
std::string emitLLVMText(const std::vector<Unit> &units, const Options &options);

/// Writes an object file defining mlc_get_plan; false and `error` on failure.
bool emitObject(const std::vector<Unit> &units, const Options &options, const std::string &path, std::string &error);

// One program: an experiment without compiled variants.
inline std::string emitLLVMText(const loops::Program &program, const std::string &manifest, const Options &options) {
  return emitLLVMText(std::vector<Unit>{{program, manifest}}, options);
}
inline bool emitObject(const loops::Program &program, const std::string &manifest, const Options &options,
                       const std::string &path, std::string &error) {
  return emitObject(std::vector<Unit>{{program, manifest}}, options, path, error);
}

/// Links an object file with libmlcrt into an executable; false and `error`
/// (with the linker's output) on failure.
bool linkExecutable(const std::string &object, const std::string &output, std::string &error);

/// A compiled module living in this process (ORC LLJIT). Runtime symbols
/// the generated code calls (mlcrt_sgemm) are taken from `symbols`, so
/// this stage does not depend on the runtime library.
class JitModule {
public:
  using Symbols = std::vector<std::pair<std::string, void *>>;
  static std::unique_ptr<JitModule> create(const std::vector<Unit> &units, const Options &options,
                                           const Symbols &symbols, std::string &error);
  static std::unique_ptr<JitModule> create(const loops::Program &program, const std::string &manifest,
                                           const Options &options, const Symbols &symbols, std::string &error) {
    return create(std::vector<Unit>{{program, manifest}}, options, symbols, error);
  }
  virtual ~JitModule() = default;
  virtual const mlc_plan *plan() const = 0;
};

}  // namespace mlc::codegen
