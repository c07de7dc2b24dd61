#include "driver/Lower.h"

#include "graph/BuildGraph.h"
#include "loops/FuseKernels.h"
#include "loops/LowerToLoops.h"
#include "loops/MergeKernels.h"
#include "loops/Manifest.h"
#include "loops/ManifestSweep.h"
#include "sema/SweepCheck.h"
#include "loops/PlanMemory.h"
#include "transform/Autodiff.h"
#include "transform/LowerOptimizer.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <set>

namespace mlc {

std::optional<Lowered> lowerExperiment(const sema::CheckedExperiment &exp, Diagnostics &diags, LowerUntil until) {
  Lowered out;
  // 1. The forward graphs (training and evaluation) with the loss.
  auto module = graph::buildGraph(exp, diags);
  if (!module) return std::nullopt;
  out.graph = std::move(*module);
  if (until == LowerUntil::Graph) return out;

  // 2. Reverse-mode autodiff of the training loss.
  auto grads = transform::differentiate(out.graph, *out.graph.function("train_step"));
  if (until == LowerUntil::Grad) return out;

  // 3. Optimizer, schedule, clipping and accumulation, as graph ops.
  if (!transform::lowerOptimizer(out.graph, grads, exp, diags)) return std::nullopt;
  if (std::string why = graph::verify(out.graph); !why.empty())
    throw std::logic_error("invalid graph after optimizer lowering: " + why);

  // 4. Kernels and GEMM calls, 5. elementwise fusion (chains, then
  // neighbours into multi-output loops), 6. memory planning.
  out.program = loops::lowerToLoops(out.graph);
  loops::fuseKernels(out.program);
  loops::mergeKernels(out.program);
  loops::planMemory(out.program);

  // 7. What the runtime needs to know besides the code.
  out.manifest = loops::writeManifest(exp, out.graph, out.program, diags.sources());
  return out;
}

namespace {

// The keys a run may override without compiling again, from the manifest's
// schema: a swept key outside it needs a compiled variant per value.
std::set<std::string> runtimeKeys(const std::string &manifest) {
  std::set<std::string> keys;
  nlohmann::json parsed = nlohmann::json::parse(manifest);
  for (const auto &entry : parsed["schema"])
    if (!entry.value("fixed", false)) keys.insert(entry["key"].get<std::string>());
  return keys;
}

int64_t largestBatch(const sema::CheckedExperiment &exp) {
  int64_t batch = exp.fields.at("trainer").value.arg("batch")->i;
  for (const sema::SweepDim &d : exp.sweep) {
    if (d.path != "trainer.batch") continue;
    for (const sema::Value &v : d.values) batch = std::max(batch, v.i);
    if (d.values.empty() && d.space.arg("high")) batch = std::max(batch, d.space.arg("high")->i);
  }
  return batch;
}

std::string gib(int64_t bytes) {
  if (bytes < (int64_t(1) << 20)) return fmt::format("{:.1f} KiB", double(bytes) / 1024);
  if (bytes < (int64_t(1) << 30)) return fmt::format("{:.1f} MiB", double(bytes) / double(1 << 20));
  return fmt::format("{:.2f} GiB", double(bytes) / double(int64_t(1) << 30));
}

}  // namespace

std::optional<LoweredSweep> lowerWithSweep(sema::Program &program, const sema::CheckedExperiment &exp,
                                           Diagnostics &diags, int64_t memoryLimit) {
  LoweredSweep out;
  // 1. The spec as written.
  auto base = lowerExperiment(exp, diags, LowerUntil::Loops);
  if (!base) return std::nullopt;
  out.variants.push_back(std::move(*base));
  if (!exp.fields.count("sweep")) return out;

  // 2. The trial graph: which swept keys the base program takes at run
  // time, which need variants of their own.
  std::set<std::string> runtime = runtimeKeys(out.variants[0].manifest);
  out.trials = sweep::buildTrialGraph(exp, [&](const std::string &key) { return runtime.count(key) > 0; }, diags);
  if (!out.trials) return std::nullopt;

  // 3. Each further variant, from sema's instantiation of its values.
  for (size_t v = 1; v < out.trials->variants.size(); ++v) {
    size_t before = diags.all().size();
    auto variant = sema::instantiateVariant(program, exp, out.trials->variants[v].values);
    auto lowered = variant ? lowerExperiment(*variant, diags, LowerUntil::Loops) : std::nullopt;
    diags.noteSince(before, exp.fields.at("sweep").loc, "in the variant with " + out.trials->variants[v].label());
    if (!lowered) return std::nullopt;
    out.variants.push_back(std::move(*lowered));
  }

  // 4. Memory: a variant that cannot fit is found now, not hours in.
  int64_t batch = largestBatch(exp);
  bool fits = true;
  for (size_t v = 0; v < out.variants.size(); ++v) {
    out.memory.push_back(loops::bytesPerRank(out.variants[v].program, batch));
    if (memoryLimit > 0 && out.memory.back() > memoryLimit) {
      diags.report(Diag::VariantOutOfMemory, exp.fields.at("sweep").loc,
                   out.trials->variants[v].label() + fmt::format(" and batch {}", batch), gib(out.memory.back()),
                   gib(memoryLimit))
          .note("narrow the sweep's domain, or set `trainer.memory_gb` to the device's memory");
      fits = false;
    }
  }
  if (!fits) return std::nullopt;
  for (size_t v = 0; v < out.variants.size(); ++v)
    out.variants[v].manifest = loops::addSweep(out.variants[v].manifest, *out.trials, v);
  return out;
}

}  // namespace mlc
