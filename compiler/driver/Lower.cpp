#include "driver/Lower.h"

#include "graph/BuildGraph.h"
#include "loops/FuseKernels.h"
#include "loops/LowerToLoops.h"
#include "loops/MergeKernels.h"
#include "loops/Manifest.h"
#include "loops/PlanMemory.h"
#include "transform/Autodiff.h"
#include "transform/LowerOptimizer.h"

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

}  // namespace mlc
