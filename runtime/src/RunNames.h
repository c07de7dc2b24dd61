// Where a run's outputs go and what it is called, from the manifest's name
// templates and the resolved configuration (DESIGN.md's naming):
//   <root>/train/<checkpoint.dir>/  checkpoints and model.safetensors
//   <root>/test/<checkpoint.dir>/   test results and predictions
//   <root>/<track.dir>/<project>/<run>/<mode>/  metrics files
//   <root>/mlruns/                  the MLflow store
// Train and test outputs are kept apart, and a run's name finds its weights.
#pragma once

#include "src/Manifest.h"

#include <filesystem>

namespace mlcrt {

/// `{model}-{data}` with the configuration's values; `{model.int_params}` is
/// `hidden=256-depth=2`. Throws UsageError naming `what` (`track.run`) on a
/// placeholder the configuration has no value for.
std::string resolveTemplate(const Manifest &m, const std::string &text, const std::string &what);

struct RunPaths {
  std::string project, run;
  std::filesystem::path trainDir, testDir, trackDir, mlflowRoot;
};

/// Resolves every name; the directories are not created.
RunPaths runPaths(const Manifest &m, const std::filesystem::path &root, const std::string &mode);

/// A hash of the configuration that decides the training trajectory (every
/// key but the tracking, checkpoint and early-stopping knobs): a checkpoint
/// resumes only a run with the same one. 16 hex digits.
std::string configHash(const Manifest &m);

/// The keys whose values differ between `recorded` (a checkpoint's config)
/// and `m`'s, among those configHash covers: `optimizer.lr: 0.001 -> 0.003`.
std::vector<std::string> configDifferences(const Manifest &m,
                                           const std::vector<std::pair<std::string, std::string>> &recorded);

/// Whether configHash covers `key`.
bool decidesTrajectory(const std::string &key);

}  // namespace mlcrt
