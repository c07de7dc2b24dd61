#include "loops/ManifestConfig.h"

#include <nlohmann/json.hpp>

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
      for (const auto &[name, arg] : v.fields) c[section + "." + name] = scalar(arg);
    } else {
      c[section] = scalar(v);
    }
  }
  return c;
}

// Integer and categorical model parameters name a run and its checkpoint
// directory (floats go to the recorded config only): DESIGN.md's naming.
json namingParams(const sema::CheckedExperiment &exp) {
  json keys = json::array();
  for (const auto &[name, value] : exp.model.config.fields)
    if (value.kind == sema::Value::Int || value.kind == sema::Value::Enum || value.kind == sema::Value::String ||
        value.kind == sema::Value::Bool)
      keys.push_back("model." + name);
  return keys;
}

const sema::Value *sectionValue(const sema::CheckedExperiment &exp, const char *name) {
  auto it = exp.fields.find(name);
  return it == exp.fields.end() ? nullptr : &it->second.value;
}

std::string modeFor(const sema::Value &section, const std::string &monitor) {
  if (const sema::Value *m = section.arg("mode")) return m->s;
  bool lower = monitor.find("loss") != std::string::npos || monitor.find("error") != std::string::npos ||
               monitor.find("perplexity") != std::string::npos;
  return lower ? "min" : "max";
}

json earlyStop(const sema::Value &s) {
  json j;
  std::string monitor = s.arg("monitor") ? s.arg("monitor")->s : "val.loss";
  j["monitor"] = monitor;
  j["mode"] = modeFor(s, monitor);
  j["patience"] = s.arg("patience") ? s.arg("patience")->i : 5;
  j["min_delta"] = s.arg("min_delta") ? s.arg("min_delta")->number() : 0.0;
  for (const char *bound : {"stop_below", "stop_above", "divergence"})
    if (const sema::Value *v = s.arg(bound); v && v->isNumber()) j[bound] = v->number();
  j["check_finite"] = !s.arg("check_finite") || s.arg("check_finite")->b;
  return j;
}

json interval(const sema::Value *every) {
  if (!every || !every->callee) return {{"unit", "epoch"}, {"n", 1}};
  const sema::Value *n = every->arg("n");
  std::string unit = every->callee->name == "epoch" ? "epoch" : every->callee->name;
  return {{"unit", unit}, {"n", n && n->isNumber() ? n->number() : 1.0}};
}

json checkpoint(const sema::Value *s, const sema::CheckedExperiment &exp) {
  bool hasVal = std::find(exp.metrics.begin(), exp.metrics.end(), "val.loss") != exp.metrics.end();
  std::string monitor = s && s->arg("monitor") ? s->arg("monitor")->s : hasVal ? "val.loss" : "train.loss";
  json j;
  j["monitor"] = monitor;
  j["mode"] = s ? modeFor(*s, monitor) : "min";
  j["top_k"] = s && s->arg("top_k") ? s->arg("top_k")->i : 1;
  j["every"] = interval(s ? s->arg("every") : nullptr);
  j["save_last"] = !s || !s->arg("save_last") || s->arg("save_last")->b;
  j["resume"] = s && s->arg("resume") ? s->arg("resume")->s : "auto";
  j["dir"] = s && s->arg("dir") ? s->arg("dir")->s : "{model}/{data}/{model.int_params}-bs{batch}";
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
  j["project"] = t.arg("project") ? t.arg("project")->s : "{model}-{data}";
  j["run"] = t.arg("run") ? t.arg("run")->s : "{model.int_params}-bs{batch}-lr{lr}";
  j["dir"] = t.arg("dir") ? t.arg("dir")->s : "runs";
  j["sinks"] = json::array();
  if (const sema::Value *sinks = t.arg("sinks"))
    for (const sema::Value &s : sinks->items) {
      if (!s.callee) continue;
      json sink = {{"kind", s.callee->name}};
      for (const auto &[name, arg] : s.fields) sink[name] = scalar(arg);
      j["sinks"].push_back(sink);
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
      bool transA = !n.ints.empty() && n.ints[0];
      int64_t k = a.dims[a.dims.size() - (transA ? 2 : 1)];
      batched = batched || k == graph::kBatch;
      if (k == graph::kBatch) k = 1;
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

// The keys the runtime reads itself, beyond the step program's scalars.
void runtimeSchema(json &schema, const json &config, const json &lifecycle, const sema::CheckedExperiment &exp) {
  std::set<std::string> listed;
  for (const json &e : schema) listed.insert(e["key"].get<std::string>());
  auto add = [&](const std::string &key, const char *type, json value, const char *doc, std::optional<double> min = {},
                 bool minOpen = false) {
    if (listed.count(key)) return json();
    json e = {{"key", key}, {"type", type}, {"default", value}, {"doc", doc}};
    if (min) e["min"] = *min, e["min_open"] = minOpen;
    listed.insert(key);
    schema.push_back(e);
    return e;
  };
  json metrics = json::array();
  for (const std::string &m : exp.metrics) metrics.push_back(m);
  auto metric = [&](const std::string &key, const json &value, const char *doc) {
    json e = add(key, "metric", value, doc);
    if (!e.is_null()) schema.back()["values"] = metrics;
  };
  auto enumKey = [&](const std::string &key, const json &value, std::vector<std::string> values, const char *doc) {
    json e = add(key, "enum", value, doc);
    if (!e.is_null()) schema.back()["values"] = values;
  };
  add("trainer.val_every", "int", config.value("trainer.val_every", 1), "epochs between validations", 1);
  if (lifecycle.contains("early_stop")) {
    const json &s = lifecycle["early_stop"];
    metric("early_stop.monitor", s["monitor"], "the metric early stopping watches");
    enumKey("early_stop.mode", s["mode"], {"min", "max"}, "whether lower (min) or higher (max) is better");
    add("early_stop.patience", "int", s["patience"], "validations without improvement before stopping", 1);
    add("early_stop.min_delta", "float", s["min_delta"], "the least change that counts as an improvement", 0);
    for (const char *bound : {"stop_below", "stop_above", "divergence"}) {
      json e = add(std::string("early_stop.") + bound, "float", s.value(bound, json()), bound == std::string("divergence")
                       ? "stop when the metric is worse than this bound"
                       : "stop when the metric crosses this threshold");
      if (!e.is_null() && !s.contains(bound)) schema.back()["optional"] = true;
    }
    add("early_stop.check_finite", "bool", s["check_finite"], "stop at the first NaN or Inf loss");
  }
  const json &c = lifecycle["checkpoint"];
  metric("checkpoint.monitor", c["monitor"], "the metric that ranks checkpoints");
  enumKey("checkpoint.mode", c["mode"], {"min", "max"}, "whether lower (min) or higher (max) is better");
  add("checkpoint.top_k", "int", c["top_k"], "best checkpoints kept (0: none)", 0);
  add("checkpoint.every", "interval", c["every"]["unit"] == "epoch" && c["every"]["n"] == 1.0
                                          ? json("epoch")
                                          : json(c["every"]["unit"].get<std::string>() + "(" +
                                                 c["every"]["n"].dump() + ")"),
      "epoch, epoch(n), steps(n) or minutes(x)");
  add("checkpoint.save_last", "bool", c["save_last"], "keep the newest checkpoint besides the best");
  enumKey("checkpoint.resume", c["resume"], {"auto", "never", "must"}, "continue from the newest valid checkpoint");
  add("checkpoint.dir", "template", c["dir"], "checkpoint directory under <root>/train");
  const json &t = lifecycle["track"];
  add("track.project", "template", t["project"], "what groups runs");
  add("track.run", "template", t["run"], "what tells runs apart");
  add("track.dir", "string", t["dir"], "local run files under <root>");
  // Everything else is compiled into the step program or its layout.
  for (auto it = config.begin(); it != config.end(); ++it) {
    if (listed.count(it.key())) continue;
    const json &v = it.value();
    const char *type = v.is_boolean() ? "bool" : v.is_number_integer() ? "int" : v.is_number() ? "float" : "string";
    json e = {{"key", it.key()}, {"type", type}, {"default", v}, {"fixed", true}, {"doc", "fixed when compiled"}};
    schema.push_back(e);
  }
}

}  // namespace

void addRunConfig(json &j, const sema::CheckedExperiment &exp, const graph::Module &module) {
  json config = flatConfig(exp);
  json lifecycle = json::object();
  if (const sema::Value *s = sectionValue(exp, "early_stop")) lifecycle["early_stop"] = earlyStop(*s);
  lifecycle["checkpoint"] = checkpoint(sectionValue(exp, "checkpoint"), exp);
  lifecycle["track"] = track(*sectionValue(exp, "track"));
  runtimeSchema(j["schema"], config, lifecycle, exp);
  j["config"] = config;
  j["naming"] = {{"int_params", namingParams(exp)},
                 {"aliases",
                  {{"lr", "optimizer.lr"},
                   {"batch", "trainer.batch"},
                   {"epochs", "trainer.epochs"},
                   {"seed", "trainer.seed"},
                   {"precision", "trainer.precision"}}}};
  j["lifecycle"] = lifecycle;
  j["flops"] = flops(module);
}

}  // namespace mlc::loops
