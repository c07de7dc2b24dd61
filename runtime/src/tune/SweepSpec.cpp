#include "src/tune/SweepSpec.h"

#include "src/Cli.h"
#include "src/Manifest.h"
#include "src/RunNames.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdlib>

namespace mlcrt::tune {

using Json = nlohmann::json;

namespace {

[[noreturn]] void bad(const std::string &what) { throw Error("manifest: `sweep." + what + "` is missing or malformed"); }

const Json &field(const Json &j, const char *key, const std::string &at) {
  auto it = j.find(key);
  if (it == j.end()) bad(at + key);
  return *it;
}

template <typename T> T value(const Json &j, const char *key, const std::string &at) {
  try {
    return field(j, key, at).get<T>();
  } catch (const Json::exception &) {
    bad(at + key);
  }
}

Dim dimension(const Json &j, size_t index) {
  std::string at = fmt::format("dims[{}].", index);
  Dim d;
  d.path = value<std::string>(j, "path", at);
  std::string kind = value<std::string>(j, "kind", at);
  d.structural = value<bool>(j, "compiled", at);
  if (kind == "choice") {
    d.kind = Dim::Choice;
    d.choices = value<std::vector<std::string>>(j, "values", at);
    if (d.choices.empty()) bad(at + "values");
  } else {
    d.kind = kind == "uniform" ? Dim::Uniform : kind == "loguniform" ? Dim::LogUniform : kind == "int" ? Dim::Int : Dim::Choice;
    if (kind != "uniform" && kind != "loguniform" && kind != "int") bad(at + "kind");
    d.low = value<double>(j, "low", at);
    d.high = value<double>(j, "high", at);
    if (d.kind == Dim::Int) {
      d.step = value<double>(j, "step", at);
      d.log = value<bool>(j, "log", at);
    }
  }
  if (j.contains("parent")) {
    d.parent = value<int>(j, "parent", at);
    if (d.parent < 0 || size_t(d.parent) >= index) bad(at + "parent");
    d.when = value<std::vector<std::string>>(j, "when", at);
  }
  return d;
}

}  // namespace

std::optional<SweepSpec> parseSweep(const std::string &manifestJson) {
  Json root = Json::parse(manifestJson, nullptr, false);
  if (root.is_discarded() || !root.is_object() || !root.contains("sweep")) return std::nullopt;
  const Json &s = root["sweep"];
  SweepSpec spec;
  spec.study = value<std::string>(s, "study", "");
  const Json &objective = field(s, "objective", "");
  spec.objective = value<std::string>(objective, "metric", "objective.");
  spec.minimize = value<std::string>(objective, "mode", "objective.") == "min";
  const Json &dims = field(s, "dims", "");
  for (size_t i = 0; i < dims.size(); ++i) spec.space.dims.push_back(dimension(dims[i], i));
  const Json &search = field(s, "search", "");
  spec.search.kind = value<std::string>(search, "kind", "search.");
  spec.search.seed = value<uint64_t>(search, "seed", "search.");
  spec.search.startup = value<int>(search, "startup", "search.");
  spec.search.candidates = value<int>(search, "candidates", "search.");
  spec.search.multivariate = value<bool>(search, "multivariate", "search.");
  const Json &prune = field(s, "prune", "");
  spec.prune.kind = value<std::string>(prune, "kind", "prune.");
  spec.prune.grace = value<int64_t>(prune, "grace", "prune.");
  spec.prune.reduction = value<int64_t>(prune, "reduction", "prune.");
  spec.prune.maxBudget = value<int64_t>(prune, "max", "prune.");
  spec.prune.warmup = value<int64_t>(prune, "warmup", "prune.");
  spec.prune.minTrials = value<int64_t>(prune, "min_trials", "prune.");
  spec.unit = value<std::string>(prune, "unit", "prune.");
  spec.maxGiven = spec.prune.maxBudget > 0;
  spec.trials = value<int64_t>(s, "trials", "");
  spec.parallel = value<int64_t>(s, "parallel", "");
  spec.retries = value<int64_t>(s, "retries", "");
  const Json &storage = field(s, "storage", "");
  if (value<std::string>(storage, "kind", "storage.") == "sqlite") spec.storage = value<std::string>(storage, "path", "storage.");
  else if (storage.contains("url_env")) spec.storageEnv = value<std::string>(storage, "url_env", "storage.");
  else spec.storage = value<std::string>(storage, "url", "storage.");
  spec.refit = value<bool>(s, "refit", "");
  spec.ensemble = value<int64_t>(s, "ensemble", "");
  for (const Json &v : field(s, "variants", "")) spec.variants.push_back(v.get<std::map<std::string, std::string>>());
  if (spec.variants.empty()) bad("variants");
  return spec;
}

void configureSweep(SweepSpec &spec, const Manifest &m, const Options &options) {
  for (const Override &o : options.overrides) {
    if (o.key == "sweep.trials") spec.trials = o.integer;
    else if (o.key == "sweep.parallel") spec.parallel = o.integer;
    else if (o.key == "sweep.retries") spec.retries = o.integer;
    else if (o.key == "sweep.seed") spec.search.seed = uint64_t(o.integer);
    else if (o.key == "sweep.refit") spec.refit = o.number != 0;
    else if (o.key == "sweep.ensemble") spec.ensemble = o.integer;
    else if (o.key == "sweep.study") spec.study = o.text;
    else if (o.key == "sweep.storage") spec.storage = o.text, spec.storageEnv.clear();
    else if (o.key == "sweep.search" && o.text != spec.search.kind) spec.search = SearchSpec{o.text, spec.search.seed};
    else if (o.key == "sweep.prune" && o.text != spec.prune.kind) {
      spec.prune = PruneSpec{o.text};
      spec.prune.maxBudget = 0;  // the whole run, as for a pruner written without `max`
      spec.maxGiven = false;
    }
  }
  spec.study = resolveTemplate(m, spec.study, "sweep.study");
  if (spec.study.empty() || spec.study.find('/') != std::string::npos || spec.study == "." || spec.study == "..")
    throw UsageError(fmt::format("`sweep.study` must name a study without `/`, got `{}`", spec.study));
  if (!spec.storageEnv.empty()) {
    const char *url = std::getenv(spec.storageEnv.c_str());
    if (!url || !*url)
      throw UsageError(fmt::format("the study's storage is `env(\"{}\")`, but `{}` is not set", spec.storageEnv,
                                   spec.storageEnv));
    spec.storage = url;
  }
  if (spec.storage.empty()) spec.storage = (std::filesystem::path(options.root) / "tune" / (spec.study + ".db")).string();
  if (!spec.maxGiven && spec.unit == "epochs") spec.prune.maxBudget = m.epochs;
  // A grid has as many trials as points: `trials` (20 unless written) must
  // not ask for more.
  if (spec.search.kind == "grid") {
    int64_t points = gridSize(spec.space);
    if (points > 0 && spec.trials > points) spec.trials = points;
  }
}

int findVariant(const SweepSpec &spec, const std::map<std::string, std::string> &values) {
  for (size_t v = 0; v < spec.variants.size(); ++v) {
    bool match = true;
    for (const auto &[path, text] : spec.variants[v]) {
      // An inactive conditional dimension keeps the spec's own value.
      auto it = values.find(path);
      const std::string &want = it != values.end() ? it->second : spec.variants[0].at(path);
      if (want != text) match = false;
    }
    if (match) return int(v);
  }
  return -1;
}

std::string fingerprint(const SweepSpec &spec) {
  Json dims = Json::array();
  for (const Dim &d : spec.space.dims)
    dims.push_back({d.path, int(d.kind), d.low, d.high, d.step, d.log, d.choices, d.parent, d.when});
  Json j = {{"objective", spec.objective}, {"minimize", spec.minimize}, {"dims", dims},
            {"search", {spec.search.kind, spec.search.seed, spec.search.startup, spec.search.candidates,
                        spec.search.multivariate}},
            {"prune", {spec.prune.kind, spec.prune.grace, spec.prune.reduction, spec.maxGiven ? spec.prune.maxBudget : 0,
                       spec.prune.warmup, spec.prune.minTrials, spec.unit}}};
  return j.dump();
}

}  // namespace mlcrt::tune
