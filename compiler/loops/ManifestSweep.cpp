#include "loops/ManifestSweep.h"

#include <nlohmann/json.hpp>

namespace mlc::loops {

using json = nlohmann::ordered_json;

namespace {

json dims(const sweep::TrialGraph &g) {
  json out = json::array();
  for (const sweep::Dim &d : g.dims) {
    json j = {{"path", d.path}, {"kind", d.kind}, {"compiled", d.compiled}};
    if (d.kind == "choice") {
      j["values"] = d.values;
    } else {
      j["low"] = d.low;
      j["high"] = d.high;
    }
    if (d.kind == "int") j["step"] = d.step, j["log"] = d.log;
    if (d.parent >= 0) j["parent"] = d.parent, j["when"] = d.when;
    out.push_back(j);
  }
  return out;
}

json trialGraph(const sweep::TrialGraph &g) {
  json storage = {{"kind", g.storage}};
  if (g.storage == "sqlite") storage["path"] = g.storagePath;
  else if (!g.storageUrlEnv.empty()) storage["url_env"] = g.storageUrlEnv;
  else storage["url"] = g.storageUrl;
  json variants = json::array();
  for (const sweep::Variant &v : g.variants) {
    json values = json::object();
    for (const auto &[path, value] : v.values)
      values[path] = value.kind == sema::Value::String || value.kind == sema::Value::Enum ? value.s : sema::toString(value);
    variants.push_back(values);
  }
  return {
      {"study", g.study},
      {"objective", {{"metric", g.objective}, {"mode", g.minimize ? "min" : "max"}}},
      {"dims", dims(g)},
      {"search", {{"kind", g.search}, {"seed", g.seed}, {"startup", g.startup}, {"candidates", g.candidates},
                  {"multivariate", g.multivariate}}},
      {"prune", {{"kind", g.prune}, {"grace", g.grace}, {"reduction", g.reduction}, {"max", g.maxBudget},
                 {"unit", g.unit}, {"warmup", g.warmup}, {"min_trials", g.minTrials}}},
      {"trials", g.trials},
      {"parallel", g.parallel},
      {"retries", g.retries},
      {"storage", storage},
      {"refit", g.refit},
      {"ensemble", g.ensemble},
      {"variants", variants},
  };
}

// The sweep keys an override may change: how much to run and where, not
// what the space is (that is the study's identity).
void sweepSchema(json &schema, const sweep::TrialGraph &g) {
  auto add = [&](json entry) {
    for (json &e : schema)
      if (e["key"] == entry["key"]) {
        e = entry;
        return;
      }
    schema.push_back(entry);
  };
  auto positive = [](json e, double min) {
    e["min"] = min;
    e["min_open"] = false;
    return e;
  };
  add(positive({{"key", "sweep.trials"}, {"type", "int"}, {"default", g.trials}, {"doc", "trials the study runs"}}, 1));
  add(positive({{"key", "sweep.parallel"}, {"type", "int"}, {"default", g.parallel}, {"doc", "trials run at once, each its own process"}}, 1));
  add(positive({{"key", "sweep.retries"}, {"type", "int"}, {"default", g.retries}, {"doc", "restarts of a crashed trial"}}, 0));
  add({{"key", "sweep.seed"}, {"type", "int"}, {"default", g.seed}, {"doc", "seed of the search"}});
  add({{"key", "sweep.search"}, {"type", "enum"}, {"default", g.search}, {"values", {"grid", "random", "tpe"}}, {"doc", "the search algorithm"}});
  add({{"key", "sweep.prune"}, {"type", "enum"}, {"default", g.prune}, {"values", {"none", "median", "asha", "hyperband"}},
       {"doc", "the pruner (its settings from the spec, or defaults)"}});
  add({{"key", "sweep.study"}, {"type", "template"}, {"default", g.study}, {"doc", "the study's name"}});
  add({{"key", "sweep.storage"}, {"type", "string"}, {"default", ""}, {"doc", "a SQLite path or a postgresql:// URL (default: the spec's)"}});
  add({{"key", "sweep.refit"}, {"type", "bool"}, {"default", g.refit}, {"doc", "train the best configuration again before testing"}});
  add(positive({{"key", "sweep.ensemble"}, {"type", "int"}, {"default", g.ensemble}, {"doc", "also test the average of the best k trials (0: no)"}}, 0));
}

}  // namespace

std::string addSweep(const std::string &manifest, const sweep::TrialGraph &graph, size_t index) {
  json j = json::parse(manifest);
  j["sweep"] = trialGraph(graph);
  j["variant"] = index;
  sweepSchema(j["schema"], graph);
  j["config"]["sweep.seed"] = graph.seed;
  j["config"]["sweep.study"] = graph.study;
  return j.dump();
}

}  // namespace mlc::loops
