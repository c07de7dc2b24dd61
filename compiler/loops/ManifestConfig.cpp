#include "loops/ManifestConfig.h"

#include "sema/Templates.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include <set>

namespace mlc::loops {

using json = nlohmann::ordered_json;

namespace {

// A scalar as itself; anything structured as the source would write it.
json scalar(const sema::Value &v) {
  switch (v.kind) {
  case sema::Value::Int: return v.i;
  case sema::Value::Float: return v.f;
  case sema::Value::Bool: return v.b;
  case sema::Value::String:
  case sema::Value::Enum:
  case sema::Value::MetricRef: return v.s;
  case sema::Value::Call:
    if (v.fields.empty() && v.callee) return v.callee->name;
    return sema::toString(v);
  default: return sema::toString(v);
  }
}

// `epoch`, `epoch(2)`, `steps(500)`, `minutes(30)`: the one spelling the
// config records, the schema shows and the runtime parses.
std::string intervalText(const sema::Value &every) {
  const sema::Value &n = *every.arg("n");
  std::string count = n.kind == sema::Value::Int ? std::to_string(n.i) : sema::toString(n);
  if (every.callee->name == "epoch" && count == "1") return "epoch";
  return every.callee->name + "(" + count + ")";
}

// Flattens the checked sections into `section.field` keys, in source order:
// what a run records as its configuration and what templates may name.
json flatConfig(const sema::CheckedExperiment &exp) {
  json c = json::object();
  c["experiment"] = exp.decl->name;
  for (const auto &[section, field] : exp.fields) {
    const sema::Value &v = field.value;
    if (section == "model") {
      c["model"] = exp.model.model->name;
      for (const auto &[name, value] : exp.model.config.fields) c["model." + name] = scalar(value);
    } else if (section == "data") {
      c["data"] = exp.data.decl->name;
      c["data.source"] = sema::toString(exp.data.source);
      for (const auto &[name, f] : exp.data.fields) c["data." + name] = scalar(f.value);
    } else if (v.kind == sema::Value::Call) {
      c[section] = v.callee ? v.callee->name : sema::toString(v);
      for (const auto &[name, arg] : v.fields) c[section + "." + name] = scalar(arg);
    } else if (v.kind == sema::Value::Record || (!v.fields.empty() && !v.callee)) {
      for (const auto &[name, arg] : v.fields)
        c[section + "." + name] = section == "checkpoint" && name == "every" ? json(intervalText(arg)) : scalar(arg);
    } else {
      c[section] = scalar(v);
    }
  }
  return c;
}

// Integer and categorical (enum, string, bool) model parameters name a run and its checkpoint
// directory (floats go to the recorded config only): DESIGN.md's naming.
json namingParams(const sema::CheckedExperiment &exp) {
  json keys = json::array();
  for (const auto &[name, value] : exp.model.config.fields)
    if (value.kind == sema::Value::Int || value.kind == sema::Value::Enum || value.kind == sema::Value::String ||
        value.kind == sema::Value::Bool)
      keys.push_back("model." + name);
  return keys;
}

// Sema resolves both blocks completely (monitor, mode and every default),
// so the values are read as they are.
json earlyStop(const sema::Value &s) {
  json j;
  j["monitor"] = s.arg("monitor")->s;
  j["mode"] = s.arg("mode")->s;
  j["patience"] = s.arg("patience")->i;
  j["min_delta"] = s.arg("min_delta")->number();
  for (const char *bound : {"stop_below", "stop_above", "divergence"})
    if (const sema::Value *v = s.arg(bound)) j[bound] = v->number();
  j["check_finite"] = s.arg("check_finite")->b;
  return j;
}

json checkpoint(const sema::Value &s) {
  const sema::Value &every = *s.arg("every");
  json j;
  j["monitor"] = s.arg("monitor")->s;
  j["mode"] = s.arg("mode")->s;
  j["top_k"] = s.arg("top_k")->i;
  j["every"] = {{"unit", every.callee->name}, {"n", every.arg("n")->number()}};
  j["save_last"] = s.arg("save_last")->b;
  j["resume"] = s.arg("resume")->s;
  j["dir"] = s.arg("dir")->s;
  return j;
}

json notifications(const sema::Value *notify) {
  json out = json::array();
  if (!notify) return out;
  auto one = [&](const sema::Value &on) {
    if (on.s != "on" || on.fields.size() != 2) return;
    const sema::Value &notifier = on.fields[0].second;
    if (!notifier.callee || notifier.fields.empty()) return;
    json n = {{"kind", notifier.callee->name}};
    const sema::Value &target = notifier.fields[0].second;
    if (target.kind == sema::Value::Call && target.callee && target.callee->name == "env" && !target.fields.empty())
      n["target_env"] = target.fields[0].second.s;
    else
      n["target"] = target.s;
    n["events"] = json::array();
    for (const sema::Value &e : on.fields[1].second.items) n["events"].push_back(e.s);
    out.push_back(n);
  };
  if (notify->kind == sema::Value::List)
    for (const sema::Value &item : notify->items) one(item);
  else
    one(*notify);
  return out;
}

json track(const sema::Value &t) {
  json j;
  j["project"] = t.arg("project")->s;
  j["run"] = t.arg("run")->s;
  j["dir"] = t.arg("dir")->s;
  j["sinks"] = json::array();
  for (const sema::Value &sink : t.arg("sinks")->items) {
    json entry = {{"kind", sink.callee->name}};
    for (const auto &[name, arg] : sink.fields) entry[name] = scalar(arg);
    j["sinks"].push_back(entry);
  }
  j["notify"] = notifications(t.arg("notify"));
  return j;
}

// Multiply-adds of the linear algebra count two operations; every other
// op one per element it produces (reductions: per element they read). The
// batch is linear in every term, so evaluating at one sample gives the
// per-sample cost; unbatched work (the optimizer's update) is per step.
struct Flops {
  double perSample = 0, perStep = 0;
};

Flops countFlops(const graph::Function &f) {
  Flops out;
  for (const graph::Node &n : f.nodes) {
    graph::OpCategory cat = graph::category(n.op);
    double work = 0;
    bool batched = n.shape.batched();
    if (n.op == graph::OpKind::MatMul && n.inputs.size() == 2) {
      const graph::Shape &a = f[n.inputs[0]].shape;
      if (a.dims.size() < 2) continue;
      // With transA the product contracts over every leading dimension of
      // `a` (a weight gradient sums over the batch and any sequence).
      bool transA = !n.ints.empty() && n.ints[0];
      int64_t k = transA ? a.elements(1) / std::max<int64_t>(1, a.dims.back()) : a.dims.back();
      batched = batched || (transA && a.batched());
      work = 2.0 * double(n.shape.elements(1)) * double(k);
    } else if (cat == graph::OpCategory::Reduce && !n.inputs.empty()) {
      batched = f[n.inputs[0]].shape.batched();
      work = double(f[n.inputs[0]].shape.elements(1));
    } else if (cat == graph::OpCategory::Unary || cat == graph::OpCategory::Binary || cat == graph::OpCategory::Select) {
      work = double(n.shape.elements(1));
    }
    (batched ? out.perSample : out.perStep) += work;
  }
  return out;
}

json flops(const graph::Module &m) {
  json j = json::object();
  for (const graph::Function &f : m.functions) {
    Flops c = countFlops(f);
    j[f.name] = {{"per_sample", c.perSample}, {"per_step", c.perStep}};
  }
  return j;
}

// The keys the runtime reads itself, beyond the step program's scalars,
// then every other configuration key, marked fixed.
void runtimeSchema(json &schema, const json &config, const json &lifecycle, const sema::CheckedExperiment &exp) {
  std::set<std::string> listed;
  for (const json &e : schema) listed.insert(e["key"].get<std::string>());
  struct Key {
    std::string key;
    const char *type;
    const char *doc;
    std::optional<double> min = {};
    json values = nullptr;  // enum and metric: the values allowed
  };
  auto add = [&](const Key &k, const json &value) {
    if (!listed.insert(k.key).second) return;
    json e = {{"key", k.key}, {"type", k.type}, {"default", value}, {"doc", k.doc}};
    if (k.min) e["min"] = *k.min, e["min_open"] = false;
    if (!k.values.is_null()) e["values"] = k.values;
    schema.push_back(e);
  };
  auto fromConfig = [&](const Key &k) { add(k, config.value(k.key, json())); };
  json metrics = exp.metrics;
  json modes = {"min", "max"};
  fromConfig({"trainer.epochs", "int", "passes over the train split", 1});
  fromConfig({"trainer.batch", "int", "samples per step", 1});
  fromConfig({"trainer.seed", "int", "seed of initialisation, shuffling and dropout"});
  fromConfig({"data.seed", "int", "seed of the train/val/test split"});
  fromConfig({"trainer.val_every", "int", "epochs between validations", 1});
  if (lifecycle.contains("early_stop")) {
    const json &s = lifecycle["early_stop"];
    add({"early_stop.monitor", "metric", "the metric early stopping watches", {}, metrics}, s["monitor"]);
    add({"early_stop.mode", "enum", "whether lower (min) or higher (max) is better", {}, modes}, s["mode"]);
    add({"early_stop.patience", "int", "validations without improvement before stopping", 1}, s["patience"]);
    add({"early_stop.min_delta", "float", "the least change that counts as an improvement", 0}, s["min_delta"]);
    add({"early_stop.stop_below", "float", "stop when the metric falls below this threshold"}, s.value("stop_below", json()));
    add({"early_stop.stop_above", "float", "stop when the metric rises above this threshold"}, s.value("stop_above", json()));
    add({"early_stop.divergence", "float", "stop when the metric is worse than this bound"}, s.value("divergence", json()));
    add({"early_stop.check_finite", "bool", "stop at the first NaN or Inf loss"}, s["check_finite"]);
  }
  const json &c = lifecycle["checkpoint"];
  add({"checkpoint.monitor", "metric", "the metric that ranks checkpoints", {}, metrics}, c["monitor"]);
  add({"checkpoint.mode", "enum", "whether lower (min) or higher (max) is better", {}, modes}, c["mode"]);
  add({"checkpoint.top_k", "int", "best checkpoints kept (0: none)", 0}, c["top_k"]);
  fromConfig({"checkpoint.every", "interval", "epoch, epoch(n), steps(n) or minutes(x)"});
  add({"checkpoint.save_last", "bool", "keep the newest checkpoint besides the best"}, c["save_last"]);
  add({"checkpoint.resume", "enum", "continue from the newest valid checkpoint", {}, {"auto", "never", "must"}},
      c["resume"]);
  add({"checkpoint.dir", "template", "checkpoint directory under <root>/train"}, c["dir"]);
  const json &t = lifecycle["track"];
  add({"track.project", "template", "what groups runs"}, t["project"]);
  add({"track.run", "template", "what tells runs apart"}, t["run"]);
  add({"track.dir", "string", "local run files under <root>"}, t["dir"]);
  // Everything else is compiled into the step program or its layout.
  for (auto it = config.begin(); it != config.end(); ++it) {
    if (listed.count(it.key())) continue;
    const json &v = it.value();
    const char *type = v.is_boolean() ? "bool" : v.is_number_integer() ? "int" : v.is_number() ? "float" : "string";
    schema.push_back({{"key", it.key()}, {"type", type}, {"default", v}, {"fixed", true}, {"doc", "fixed when compiled"}});
  }
}

}  // namespace

void addRunConfig(json &j, const sema::CheckedExperiment &exp, const graph::Module &module) {
  json config = flatConfig(exp);
  json lifecycle = json::object();
  if (auto s = exp.fields.find("early_stop"); s != exp.fields.end()) lifecycle["early_stop"] = earlyStop(s->second.value);
  lifecycle["checkpoint"] = checkpoint(exp.fields.at("checkpoint").value);
  lifecycle["track"] = track(exp.fields.at("track").value);
  runtimeSchema(j["schema"], config, lifecycle, exp);
  j["config"] = config;
  json aliases = json::object();
  for (const auto &[alias, key] : sema::templateAliases()) aliases[alias] = key;
  j["naming"] = {{"int_params", namingParams(exp)}, {"aliases", aliases}};
  j["lifecycle"] = lifecycle;
  j["flops"] = flops(module);
}

}  // namespace mlc::loops
