// The manifest's trial graph ("sweep", runtime/abi/manifest.md) as the
// tuner runs it, with the `sweep.*` overrides of the command line applied.
#pragma once

#include "src/tune/Prune.h"
#include "src/tune/Search.h"

#include <map>

namespace mlcrt {
struct Manifest;
struct Options;
}  // namespace mlcrt

namespace mlcrt::tune {

struct SweepSpec {
  std::string study = "{experiment}";  // a name template
  std::string objective = "val.loss";
  bool minimize = true;
  Space space;
  SearchSpec search;
  PruneSpec prune;        // maxBudget 0: the whole run, filled in from the trainer
  std::string unit = "epochs";  // of the pruner's budgets: epochs | steps
  bool maxGiven = false;        // the spec set the pruner's max (else: the whole run)
  int64_t trials = 20, parallel = 1, retries = 1;
  std::string storage;    // a SQLite path or a postgresql:// URL; "" : <root>/tune/<study>.db
  std::string storageEnv; // the URL's environment variable, when the spec says env(...)
  bool refit = true;
  int64_t ensemble = 0;   // also test the average of the best k trials; 0: no
  /// Per compiled variant, the values of its compiled dimensions.
  std::vector<std::map<std::string, std::string>> variants;
};

/// Reads the manifest's "sweep" object; nullopt when it has none. Throws
/// Error naming the key on a malformed one.
std::optional<SweepSpec> parseSweep(const std::string &manifestJson);

/// Applies the `sweep.*` overrides in `options` (checked against the schema
/// already) and resolves the study's name and storage. `root` holds the
/// default SQLite file.
void configureSweep(SweepSpec &spec, const Manifest &m, const Options &options);

/// The variant whose compiled values `params` (by path, override text)
/// match, or -1.
int findVariant(const SweepSpec &spec, const std::map<std::string, std::string> &values);

/// A fingerprint of what makes two studies comparable: the space, the
/// objective, the search and the pruner.
std::string fingerprint(const SweepSpec &spec);

}  // namespace mlcrt::tune
