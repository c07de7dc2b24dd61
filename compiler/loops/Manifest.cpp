#include "loops/Manifest.h"

#include "loops/ManifestConfig.h"

#include <filesystem>
#include <nlohmann/json.hpp>

namespace mlc::loops {

// Ordered: the runtime reads the splits in the order they are written.
using json = nlohmann::ordered_json;

namespace {

double numberArg(const sema::Value &call, const std::string &name, double fallback) {
  const sema::Value *v = call.arg(name);
  return v && v->isNumber() ? v->number() : fallback;
}

json shapeJson(const graph::Shape &s) {
  json out = json::array();
  for (int64_t d : s.dims) out.push_back(d);
  return out;
}

class ManifestWriter {
public:
  ManifestWriter(const sema::CheckedExperiment &exp, const graph::Module &m, const Program &p, const SourceManager &sources)
      : exp_(exp), m_(m), p_(p), sources_(sources) {}

  std::string run() {
    json j;
    j["abi"] = 1;
    j["experiment"] = exp_.decl->name;
    j["model"] = exp_.model.model->name;
    j["data_name"] = exp_.data.decl->name;
    j["source"] = absolute(sources_.path(exp_.decl->file), "");
    j["task"] = exp_.data.task;
    j["classes"] = exp_.data.classes.value_or(0);
    j["data"] = data();
    const sema::Value &trainer = exp_.fields.at("trainer").value;
    j["trainer"] = {{"epochs", int64_t(numberArg(trainer, "epochs", 1))},
                    {"batch", int64_t(numberArg(trainer, "batch", 1))},
                    {"seed", int64_t(numberArg(trainer, "seed", 0))},
                    {"accumulate", int64_t(numberArg(trainer, "accumulate", 1))},
                    {"grad_clip", numberArg(trainer, "grad_clip", 0)}};
    j["hparams"] = json::array();
    j["schema"] = json::array();
    for (size_t slot = 0; slot < m_.hparams.size(); ++slot) {
      const graph::HParamDecl &h = m_.hparams[slot];
      json entry = {{"slot", slot}, {"key", h.key}};
      if (h.counter) entry["counter"] = true;
      else if (h.integer) entry["default"] = int64_t(h.value), entry["type"] = "int";
      else entry["default"] = h.value, entry["type"] = "float";
      j["hparams"].push_back(entry);
      if (!h.counter) j["schema"].push_back(schemaEntry(h, int(slot)));
    }
    addRunConfig(j, exp_, m_);

    j["state_bytes"] = p_.stateBytes;
    j["state"] = json::array();
    for (const Buffer &b : p_.buffers) {
      if (b.region != Region::State) continue;
      const graph::StateDecl *s = stateNamed(b.name);
      if (!s) continue;
      static const char *roles[] = {"param", "grad_acc", "moment1", "moment2", "momentum"};
      static const char *inits[] = {"zeros", "ones", "uniform"};
      json e = {{"name", b.name}, {"offset", b.offset}, {"shape", shapeJson(s->shape)}, {"init", inits[s->init]},
                {"role", roles[s->role]}};
      if (s->init == graph::StateDecl::Uniform) e["bound"] = s->bound;
      j["state"].push_back(e);
    }
    j["scratch_fixed_bytes"] = p_.scratchFixedBytes;
    j["scratch_per_sample_bytes"] = p_.scratchPerSampleBytes;
    j["io"] = json::array();
    for (const Buffer &b : p_.buffers) {
      if (b.region != Region::Io) continue;
      j["io"].push_back({{"slot", b.slot}, {"name", b.name}, {"dtype", b.dtype == DType::F32 ? "f32" : "i64"},
                         {"shape", shapeJson(ioShape(b.name))}});
    }
    j["metrics"] = json::array();
    for (const sema::Value &metric : exp_.fields.at("metrics").value.items) {
      json e = {{"name", metric.callee->name}};
      if (const sema::Value *avg = metric.arg("average")) e["average"] = avg->s;
      if (const sema::Value *k = metric.arg("k")) e["k"] = k->i;
      j["metrics"].push_back(e);
    }
    return j.dump(1);
  }

private:
  std::string absolute(const std::string &path, const std::string &relativeTo) const {
    namespace fs = std::filesystem;
    fs::path p = relativeTo.empty() || fs::path(path).is_absolute() ? fs::path(path) : fs::path(relativeTo).parent_path() / path;
    std::error_code ec;
    return fs::absolute(p, ec).lexically_normal().string();
  }

  json column(const sema::Value &selector) const {
    const sema::Value &key = selector.fields.at(0).second;
    if (key.kind == sema::Value::Int) return key.i;
    return key.s;
  }

  json data() const {
    const sema::DatasetInfo &d = exp_.data;
    const sema::Value &source = d.source;
    std::string dir = sources_.path(d.decl->file);
    json j;
    j["kind"] = source.callee->name;
    auto path = [&](const char *arg) {
      const sema::Value *v = source.arg(arg);
      return v && !v->s.empty() ? absolute(v->s, dir) : std::string();
    };
    if (source.callee->name == "csv") {
      j["path"] = path("path");
      j["header"] = source.arg("header") && source.arg("header")->b;
      j["delimiter"] = source.arg("delimiter") ? source.arg("delimiter")->s : ",";
      const sema::Value &features = d.fields.at("features").value;
      const sema::Value &key = features.fields.at(0).second;
      if (key.kind == sema::Value::Range) j["features"] = {{"range", {key.items.at(0).i, key.items.at(1).i}}};
      else j["features"] = {{"columns", json::array({column(features)})}};
      j["label"] = column(d.fields.at("label").value);
    } else if (source.callee->name == "idx") {
      j["images"] = path("images");
      j["labels"] = path("labels");
      if (!path("test_images").empty()) {
        j["test_images"] = path("test_images");
        j["test_labels"] = path("test_labels");
      }
    } else if (source.callee->name == "text") {
      j["kind"] = "text";  // bytes as tokens, read like a token file
      j["tokens_path"] = path("path");
      j["context"] = int64_t(numberArg(source, "context", 128));
    }
    auto normalize = d.fields.find("normalize");
    j["normalize"] = normalize != d.fields.end() ? normalize->second.value.s : "none";
    j["splits"] = json::object();
    for (const char *split : {"train", "val", "test"})
      for (auto &[name, fraction] : d.splits)
        if (name == split) j["splits"][name] = fraction;
    auto seed = d.fields.find("seed");
    j["seed"] = seed != d.fields.end() ? seed->second.value.i : 0;
    json shape = json::array();
    for (size_t i = 1; i < d.features.dims.size(); ++i) shape.push_back(d.features.dims[i].size);
    j["feature_shape"] = shape;
    j["label_dtype"] = d.label.dtype == "f32" ? "f32" : "i64";
    json labelShape = json::array();
    for (size_t i = 1; i < d.label.dims.size(); ++i) labelShape.push_back(d.label.dims[i].size);
    j["label_shape"] = labelShape;
    j["classes"] = d.classes.value_or(0);
    return j;
  }

  const graph::StateDecl *stateNamed(const std::string &name) const {
    for (const graph::StateDecl &s : m_.states)
      if (s.name == name) return &s;
    return nullptr;
  }

  graph::Shape ioShape(const std::string &name) const {
    for (const graph::Function &f : m_.functions)
      for (const graph::Node &n : f.nodes) {
        if ((n.op == graph::OpKind::Input || n.op == graph::OpKind::Label) && n.name == name) return n.shape;
        if (n.op == graph::OpKind::Output && n.name == name) return f[n.inputs[0]].shape;
      }
    return {};
  }

  json schemaEntry(const graph::HParamDecl &h, int slot) const {
    json e = {{"key", h.key}, {"type", h.integer ? "int" : "float"}, {"hparam", slot}};
    if (h.integer) e["default"] = int64_t(h.value);
    else e["default"] = h.value;
    if (h.range) {
      if (h.range->lo) e["min"] = *h.range->lo, e["min_open"] = h.range->loOpen;
      if (h.range->hi) e["max"] = *h.range->hi, e["max_open"] = h.range->hiOpen;
    }
    e["doc"] = h.key.rfind("model.", 0) == 0 ? "model hyperparameter" : "";
    return e;
  }

  const sema::CheckedExperiment &exp_;
  const graph::Module &m_;
  const Program &p_;
  const SourceManager &sources_;
};

}  // namespace

std::string writeManifest(const sema::CheckedExperiment &exp, const graph::Module &module, const Program &program,
                          const SourceManager &sources) {
  return ManifestWriter(exp, module, program, sources).run();
}

}  // namespace mlc::loops
