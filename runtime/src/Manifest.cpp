#include "src/Manifest.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <set>

namespace mlcrt {

namespace {

// Ordered, because the split record's order is the order splits are
// reported in (language.md §10).
using Json = nlohmann::ordered_json;

constexpr int64_t kAbi = 1;

[[noreturn]] void fail(const std::string &message) { throw Error("manifest: " + message); }

std::string join(const std::string &parent, const std::string &key) {
  return parent.empty() ? key : parent + "." + key;
}

// A value as an error message quotes it: strings bare, anything else as
// JSON, cut short so a misplaced array cannot flood the terminal.
std::string shown(const Json &v) {
  std::string s = v.is_string() ? v.get<std::string>() : v.dump();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

[[noreturn]] void wrongType(const std::string &path, const char *expected, const Json &v) {
  fail(fmt::format("`{}` must be {}, got `{}`", path, expected, shown(v)));
}

const Json *find(const Json &obj, const std::string &parent, const char *key, bool required) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (required) fail(fmt::format("missing key `{}`", join(parent, key)));
    return nullptr;
  }
  return &*it;
}

const Json &object(const Json &obj, const std::string &parent, const char *key) {
  const Json &v = *find(obj, parent, key, true);
  if (!v.is_object()) wrongType(join(parent, key), "an object", v);
  return v;
}

const Json *array(const Json &obj, const std::string &parent, const char *key, bool required) {
  const Json *v = find(obj, parent, key, required);
  if (v && !v->is_array()) wrongType(join(parent, key), "an array", *v);
  return v;
}

std::string text(const Json &v, const std::string &path) {
  if (!v.is_string()) wrongType(path, "a string", v);
  return v.get<std::string>();
}

std::string text(const Json &obj, const std::string &parent, const char *key) {
  return text(*find(obj, parent, key, true), join(parent, key));
}

std::string text(const Json &obj, const std::string &parent, const char *key, const std::string &fallback) {
  const Json *v = find(obj, parent, key, false);
  return v ? text(*v, join(parent, key)) : fallback;
}

std::string oneOf(const Json &obj, const std::string &parent, const char *key,
                  std::initializer_list<const char *> values, const char *fallback = nullptr) {
  std::string path = join(parent, key);
  const Json *v = find(obj, parent, key, fallback == nullptr);
  if (!v) return fallback;
  std::string s = text(*v, path);
  std::string list;
  for (const char *value : values) {
    if (s == value) return s;
    list += fmt::format("{}`{}`", list.empty() ? "" : ", ", value);
  }
  fail(fmt::format("`{}` must be one of {}, got `{}`", path, list, s));
}

int64_t integer(const Json &v, const std::string &path, int64_t min = std::numeric_limits<int64_t>::min()) {
  if (v.is_number_unsigned()) {
    if (v.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max())) wrongType(path, "a 64-bit integer", v);
  } else if (!v.is_number_integer()) {
    wrongType(path, "an integer", v);
  }
  int64_t n = v.get<int64_t>();
  if (n < min) fail(fmt::format("`{}` must be >= {}, got `{}`", path, min, n));
  return n;
}

int64_t integer(const Json &obj, const std::string &parent, const char *key, int64_t min) {
  return integer(*find(obj, parent, key, true), join(parent, key), min);
}

int64_t integer(const Json &obj, const std::string &parent, const char *key, int64_t min, int64_t fallback) {
  const Json *v = find(obj, parent, key, false);
  return v ? integer(*v, join(parent, key), min) : fallback;
}

// Seeds are `int` in the language, so negative ones are legal; they keep
// their two's-complement bits, as an override of the same value does.
uint64_t seedValue(const Json &obj, const std::string &parent, const char *key) {
  const Json *v = find(obj, parent, key, false);
  if (!v) return 0;
  if (v->is_number_unsigned()) return v->get<uint64_t>();
  return uint64_t(integer(*v, join(parent, key)));
}

double number(const Json &v, const std::string &path) {
  if (v.is_boolean()) return v.get<bool>() ? 1 : 0;
  if (!v.is_number()) wrongType(path, "a number", v);
  return v.get<double>();
}

bool boolean(const Json &obj, const std::string &parent, const char *key, bool fallback) {
  const Json *v = find(obj, parent, key, false);
  if (!v) return fallback;
  if (!v->is_boolean()) wrongType(join(parent, key), "a boolean", *v);
  return v->get<bool>();
}

std::vector<int64_t> shape(const Json &obj, const std::string &parent, const char *key, bool allowBatch) {
  std::string path = join(parent, key);
  const Json &v = *array(obj, parent, key, true);
  std::vector<int64_t> dims;
  for (size_t i = 0; i < v.size(); ++i) {
    std::string at = fmt::format("{}[{}]", path, i);
    // -1 marks the batch dimension, which only an io slot's first dim may be.
    dims.push_back(integer(v[i], at, allowBatch && i == 0 ? -1 : 0));
  }
  return dims;
}

// Whether the product of `dims` (the batch, -1, left out) stays at or below
// `limit`, checked before multiplying so that absurd shapes cannot wrap.
bool productAtMost(const std::vector<int64_t> &dims, int64_t limit) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0) continue;
    if (d == 0) return true;
    if (n > limit / d) return false;
    n *= d;
  }
  return true;
}

// A column selector is an index or a header name; the loaders take either
// as text.
std::string column(const Json &v, const std::string &path) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(integer(v, path, 0));
  wrongType(path, "a column index or name", v);
}

DataSpec parseData(const Json &root, const std::string &task, int64_t classes) {
  const std::string p = "data";
  const Json &d = object(root, "", "data");
  DataSpec spec;
  spec.kind = oneOf(d, p, "kind", {"csv", "idx", "npy", "tokens", "text"});
  if (spec.kind == "csv") {
    spec.path = text(d, p, "path");
    spec.header = boolean(d, p, "header", false);
    std::string delimiter = text(d, p, "delimiter", ",");
    if (delimiter.size() != 1)
      fail(fmt::format("`data.delimiter` must be one character, got `{}`", delimiter));
    spec.delimiter = delimiter[0];
    const Json &features = object(d, p, "features");
    if (const Json *range = find(features, "data.features", "range", false)) {
      if (!range->is_array() || range->size() != 2) wrongType("data.features.range", "a pair [begin, end]", *range);
      int64_t begin = integer((*range)[0], "data.features.range[0]", 0);
      int64_t end = integer((*range)[1], "data.features.range[1]", 0);
      if (begin >= end) fail(fmt::format("`data.features.range` is empty: [{}, {})", begin, end));
      spec.featureRange = {begin, end};
    } else if (const Json *columns = array(features, "data.features", "columns", false)) {
      if (columns->empty()) fail("`data.features.columns` is empty");
      for (size_t i = 0; i < columns->size(); ++i)
        spec.featureColumns.push_back(column((*columns)[i], fmt::format("data.features.columns[{}]", i)));
    } else {
      fail("missing key `data.features.range` or `data.features.columns`");
    }
    spec.label = column(*find(d, p, "label", true), "data.label");
  } else if (spec.kind == "idx") {
    spec.images = text(d, p, "images");
    spec.labels = text(d, p, "labels");
    spec.testImages = text(d, p, "test_images", "");
    spec.testLabels = text(d, p, "test_labels", "");
    if (spec.testImages.empty() != spec.testLabels.empty())
      fail(spec.testImages.empty() ? "`data.test_labels` needs `data.test_images`"
                                   : "`data.test_images` needs `data.test_labels`");
  } else if (spec.kind == "npy") {
    spec.featuresPath = text(d, p, "features_path");
    spec.labelsPath = text(d, p, "labels_path");
  } else {
    spec.tokensPath = text(d, p, "tokens_path");
    spec.context = integer(d, p, "context", 1);
  }

  spec.normalize = oneOf(d, p, "normalize", {"none", "minmax", "standard"}, "none");
  const Json &splits = object(d, p, "splits");
  for (const auto &[name, fraction] : splits.items()) {
    std::string path = "data.splits." + name;
    if (name != "train" && name != "val" && name != "test")
      fail(fmt::format("`data.splits` has an unknown split `{}` (expected `train`, `val`, `test`)", name));
    double f = number(fraction, path);
    if (!(f >= 0 && f <= 1)) fail(fmt::format("`{}` must be in [0, 1], got `{}`", path, shown(fraction)));
    spec.splits.emplace_back(name, f);
  }
  if (!splits.contains("train")) fail("missing key `data.splits.train`");
  spec.seed = seedValue(d, p, "seed");
  spec.featureShape = shape(d, p, "feature_shape", false);
  if (!productAtMost(spec.featureShape, int64_t(1) << 40)) fail("`data.feature_shape` is too large");
  spec.classLabels = oneOf(d, p, "label_dtype", {"i64", "f32"}) == "i64";
  if (spec.classLabels != (task == "classification"))
    fail(fmt::format("`data.label_dtype` is `{}` but the task is {}", spec.classLabels ? "i64" : "f32", task));
  spec.labelShape = d.contains("label_shape") ? shape(d, p, "label_shape", false) : std::vector<int64_t>{};
  spec.classes = classes;
  return spec;
}

SchemaEntry parseSchemaEntry(const Json &e, const std::string &at) {
  if (!e.is_object()) wrongType(at, "an object", e);
  SchemaEntry s;
  s.key = text(e, at, "key");
  s.type = oneOf(e, at, "type", {"int", "float", "bool", "string", "enum", "metric", "interval", "template"});
  s.doc = text(e, at, "doc", "");
  s.fixed = boolean(e, at, "fixed", false);
  if (s.type == "enum" || s.type == "metric") {
    const Json &values = *array(e, at, "values", true);
    for (size_t i = 0; i < values.size(); ++i) s.values.push_back(text(values[i], fmt::format("{}.values[{}]", at, i)));
    if (s.values.empty()) fail(fmt::format("`{}.values` is empty", at));
  }
  if (const Json *d = find(e, at, "default", false)) {
    std::string path = at + ".default";
    if (s.type == "int" || s.type == "float") {
      s.defaultNumber = s.type == "int" ? double(integer(*d, path)) : number(*d, path);
      s.defaultText = d->dump();
    } else if (s.type == "bool") {
      if (!d->is_boolean()) wrongType(path, "a boolean", *d);
      s.defaultNumber = d->get<bool>() ? 1 : 0;
      s.defaultText = d->get<bool>() ? "true" : "false";
    } else if (s.type == "interval" || s.type == "template" || s.type == "string" || s.type == "metric" ||
               s.type == "enum") {
      s.defaultText = d->is_string() ? d->get<std::string>() : d->dump();
      for (size_t i = 0; i < s.values.size(); ++i)
        if (s.values[i] == s.defaultText) s.defaultNumber = double(i);
    }
  }
  if (const Json *min = find(e, at, "min", false)) s.min = number(*min, at + ".min");
  if (const Json *max = find(e, at, "max", false)) s.max = number(*max, at + ".max");
  s.minOpen = boolean(e, at, "min_open", false);
  s.maxOpen = boolean(e, at, "max_open", false);
  s.hparam = int(integer(e, at, "hparam", 0, -1));
  return s;
}

// The value of a config key as a template shows it: strings bare.
ConfigEntry configEntry(const std::string &key, const Json &v) {
  if (v.is_boolean()) return {key, v.get<bool>() ? "true" : "false", "bool"};
  if (v.is_number_integer()) return {key, v.dump(), "int"};
  if (v.is_number()) return {key, fmt::format("{}", v.get<double>()), "float"};
  if (v.is_string()) return {key, v.get<std::string>(), "string"};
  return {key, v.dump(), "string"};
}

std::optional<double> optionalNumber(const Json &obj, const std::string &parent, const char *key) {
  const Json *v = find(obj, parent, key, false);
  if (!v) return std::nullopt;
  return number(*v, join(parent, key));
}

void parseLifecycle(const Json &root, Manifest &m) {
  const Json *life = find(root, "", "lifecycle", false);
  if (!life || !life->contains("track")) m.track.sinks = {SinkSpec{"console", 1, ""}};  // mlc's default block
  if (!life) return;
  if (!life->is_object()) wrongType("lifecycle", "an object", *life);
  if (const Json *es = find(*life, "lifecycle", "early_stop", false)) {
    const std::string p = "lifecycle.early_stop";
    EarlyStopSpec e;
    e.monitor = text(*es, p, "monitor");
    e.mode = oneOf(*es, p, "mode", {"min", "max"}, "min");
    e.patience = integer(*es, p, "patience", 1, 5);
    e.minDelta = optionalNumber(*es, p, "min_delta").value_or(0);
    e.stopBelow = optionalNumber(*es, p, "stop_below");
    e.stopAbove = optionalNumber(*es, p, "stop_above");
    e.divergence = optionalNumber(*es, p, "divergence");
    e.checkFinite = boolean(*es, p, "check_finite", true);
    m.earlyStop = e;
  }
  if (const Json *c = find(*life, "lifecycle", "checkpoint", false)) {
    const std::string p = "lifecycle.checkpoint";
    CheckpointSpec &k = m.checkpoint;
    k.monitor = text(*c, p, "monitor", k.monitor);
    k.mode = oneOf(*c, p, "mode", {"min", "max"}, "min");
    k.topK = integer(*c, p, "top_k", 0, 1);
    if (const Json *every = find(*c, p, "every", false)) {
      k.every.unit = oneOf(*every, p + ".every", "unit", {"epoch", "steps", "minutes"});
      k.every.n = number(*find(*every, p + ".every", "n", true), p + ".every.n");
      if (!(k.every.n > 0) || !std::isfinite(k.every.n)) fail(fmt::format("`{}.every.n` must be > 0", p));
    }
    k.saveLast = boolean(*c, p, "save_last", true);
    k.resume = oneOf(*c, p, "resume", {"auto", "never", "must"}, "auto");
    k.dir = text(*c, p, "dir", k.dir);
  }
  if (const Json *t = find(*life, "lifecycle", "track", false)) {
    const std::string p = "lifecycle.track";
    TrackSpec &k = m.track;
    k.project = text(*t, p, "project", k.project);
    k.run = text(*t, p, "run", k.run);
    k.dir = text(*t, p, "dir", k.dir);
    if (const Json *sinks = array(*t, p, "sinks", false))
      for (size_t i = 0; i < sinks->size(); ++i) {
        std::string at = fmt::format("{}.sinks[{}]", p, i);
        SinkSpec s;
        s.kind = oneOf((*sinks)[i], at, "kind", {"console", "jsonl", "csv_log", "tensorboard", "mlflow"});
        s.every = integer((*sinks)[i], at, "every", 1, 1);
        s.uri = text((*sinks)[i], at, "uri", "mlruns");
        k.sinks.push_back(s);
      }
    if (const Json *notify = array(*t, p, "notify", false))
      for (size_t i = 0; i < notify->size(); ++i) {
        std::string at = fmt::format("{}.notify[{}]", p, i);
        const Json &n = (*notify)[i];
        NotifySpec s;
        s.kind = oneOf(n, at, "kind", {"webhook", "command"});
        s.target = text(n, at, "target", "");
        s.targetEnv = text(n, at, "target_env", "");
        if (const Json *events = array(n, at, "events", true))
          for (size_t e = 0; e < events->size(); ++e) s.events.push_back(text((*events)[e], fmt::format("{}.events[{}]", at, e)));
        k.notify.push_back(s);
      }
  }
}

void parseRunConfig(const Json &root, Manifest &m) {
  if (const Json *config = find(root, "", "config", false)) {
    if (!config->is_object()) wrongType("config", "an object", *config);
    for (auto it = config->begin(); it != config->end(); ++it) m.config.push_back(configEntry(it.key(), it.value()));
  }
  if (const Json *naming = find(root, "", "naming", false)) {
    if (const Json *params = array(*naming, "naming", "int_params", false))
      for (size_t i = 0; i < params->size(); ++i)
        m.namingParams.push_back(text((*params)[i], fmt::format("naming.int_params[{}]", i)));
    if (const Json *aliases = find(*naming, "naming", "aliases", false))
      for (auto it = aliases->begin(); it != aliases->end(); ++it)
        m.aliases.emplace_back(it.key(), text(it.value(), "naming.aliases." + it.key()));
  }
  if (const Json *flops = find(root, "", "flops", false)) {
    auto per = [&](const char *function, const char *key) {
      const Json *f = find(*flops, "flops", function, false);
      const Json *v = f ? find(*f, std::string("flops.") + function, key, false) : nullptr;
      return v ? number(*v, fmt::format("flops.{}.{}", function, key)) : 0.0;
    };
    m.trainFlopsPerSample = per("train_step", "per_sample");
    m.trainFlopsPerStep = per("train_step", "per_step");
    m.applyFlopsPerStep = per("apply_step", "per_step");
  }
  parseLifecycle(root, m);
  if (const Json *sweep = find(root, "", "sweep", false)) {
    m.sweepJson = Json{{"sweep", *sweep}}.dump();
    m.variant = int(integer(root, "", "variant", 0, 0));
    if (const Json *variants = array(*sweep, "sweep", "variants", true))
      for (const Json &v : *variants)
        for (auto it = v.begin(); it != v.end(); ++it) {
          std::vector<std::string> &values = m.variantValues[it.key()];
          std::string value = text(it.value(), "sweep.variants." + it.key());
          if (std::find(values.begin(), values.end(), value) == values.end()) values.push_back(value);
        }
  }
}

}  // namespace

int64_t StateSpec::elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

int64_t IoSpec::perSampleElements() const {
  int64_t n = 1;
  for (size_t i = batched() ? 1 : 0; i < shape.size(); ++i) n *= shape[i];
  return n;
}

std::string MetricSpec::label() const { return name; }

const IoSpec *Manifest::ioNamed(const std::string &name) const {
  for (const IoSpec &io : io)
    if (io.name == name) return &io;
  return nullptr;
}

const SchemaEntry *Manifest::schemaEntry(const std::string &key) const {
  for (const SchemaEntry &s : schema)
    if (s.key == key) return &s;
  return nullptr;
}

std::string printable(std::string_view text) {
  std::string out;
  for (char ch : text) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) out += fmt::format("\\x{:02x}", c);
    else out.push_back(ch);
  }
  return out;
}

const ConfigEntry *Manifest::configEntry(const std::string &key) const {
  for (const ConfigEntry &c : config)
    if (c.key == key) return &c;
  return nullptr;
}

void Manifest::setConfig(const std::string &key, const std::string &text) {
  for (ConfigEntry &c : config)
    if (c.key == key) {
      c.text = text;
      return;
    }
  config.push_back({key, text, "string"});
}

std::optional<IntervalSpec> parseInterval(const std::string &text) {
  if (text == "epoch") return IntervalSpec{"epoch", 1};
  size_t open = text.find('('), close = text.rfind(')');
  if (open == std::string::npos || close != text.size() - 1 || close < open) return std::nullopt;
  std::string unit = text.substr(0, open), n = text.substr(open + 1, close - open - 1);
  if (unit != "epoch" && unit != "steps" && unit != "minutes") return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), v);
  if (n.empty() || ec != std::errc() || end != n.data() + n.size() || !(v > 0) || !std::isfinite(v)) return std::nullopt;
  if (unit != "minutes" && v != std::floor(v)) return std::nullopt;
  return IntervalSpec{unit, v};
}

int64_t Manifest::stepsPerEpoch(int64_t trainSamples) const {
  auto ceilDiv = [](int64_t a, int64_t b) { return a / b + (a % b != 0); };  // no overflow near INT64_MAX
  return ceilDiv(ceilDiv(trainSamples, batch), accumulate);
}

int Manifest::hparamSlot(const std::string &key) const {
  for (const HParamSpec &h : hparams)
    if (h.key == key) return h.slot;
  return -1;
}

Manifest parseManifest(const std::string &json) {
  Json root;
  try {
    root = Json::parse(json);
  } catch (const Json::parse_error &e) {
    fail(fmt::format("invalid JSON at byte {}", e.byte));
  }
  if (!root.is_object()) fail("the top level must be an object");

  Manifest m;
  int64_t abi = integer(root, "", "abi", 0);
  if (abi != kAbi) fail(fmt::format("`abi` is {}, but this runtime reads {}", abi, kAbi));
  m.experiment = text(root, "", "experiment");
  m.model = text(root, "", "model", "");
  m.dataName = text(root, "", "data_name", "");
  m.source = text(root, "", "source", "");
  m.task = oneOf(root, "", "task", {"classification", "regression"});
  if (m.task == "classification") m.classes = integer(root, "", "classes", 2);
  m.data = parseData(root, m.task, m.classes);

  const Json &trainer = object(root, "", "trainer");
  m.epochs = integer(trainer, "trainer", "epochs", 1);
  m.batch = integer(trainer, "trainer", "batch", 1);
  m.seed = seedValue(trainer, "trainer", "seed");
  m.accumulate = integer(trainer, "trainer", "accumulate", 1, 1);

  std::set<int> hparamSlots;
  if (const Json *hparams = array(root, "", "hparams", false)) {
    for (size_t i = 0; i < hparams->size(); ++i) {
      std::string at = fmt::format("hparams[{}]", i);
      const Json &e = (*hparams)[i];
      if (!e.is_object()) wrongType(at, "an object", e);
      HParamSpec h;
      h.slot = int(integer(e, at, "slot", 0));
      if (h.slot > 1 << 20) fail(fmt::format("`{}.slot` is too large: {}", at, h.slot));
      if (!hparamSlots.insert(h.slot).second) fail(fmt::format("`{}.slot` {} is used twice", at, h.slot));
      h.key = text(e, at, "key");
      h.counter = boolean(e, at, "counter", false);
      if (h.counter) {
        if (h.key != "step" && h.key != "total_steps")
          fail(fmt::format("`{}` is an unknown counter `{}` (expected `step` or `total_steps`)", at, h.key));
      } else {
        h.value = number(*find(e, at, "default", true), at + ".default");
      }
      m.hparams.push_back(std::move(h));
    }
  }

  if (const Json *schema = array(root, "", "schema", false)) {
    std::set<std::string> keys;
    for (size_t i = 0; i < schema->size(); ++i) {
      std::string at = fmt::format("schema[{}]", i);
      SchemaEntry s = parseSchemaEntry((*schema)[i], at);
      if (!keys.insert(s.key).second) fail(fmt::format("`{}` repeats the key `{}`", at, s.key));
      if (s.hparam >= 0) {
        bool found = false;
        for (const HParamSpec &h : m.hparams) found |= h.slot == s.hparam && !h.counter;
        if (!found)
          fail(fmt::format("`{}.hparam` names slot {}, which no non-counter `hparams` entry has", at, s.hparam));
      }
      m.schema.push_back(std::move(s));
    }
  }

  m.stateBytes = integer(root, "", "state_bytes", 0);
  const Json &state = *array(root, "", "state", true);
  for (size_t i = 0; i < state.size(); ++i) {
    std::string at = fmt::format("state[{}]", i);
    const Json &e = state[i];
    if (!e.is_object()) wrongType(at, "an object", e);
    StateSpec s;
    s.name = text(e, at, "name");
    s.offset = integer(e, at, "offset", 0);
    s.shape = shape(e, at, "shape", false);
    s.init = oneOf(e, at, "init", {"zeros", "ones", "uniform"});
    if (s.init == "uniform") {
      s.bound = number(*find(e, at, "bound", true), at + ".bound");
      if (!(s.bound >= 0) || !std::isfinite(s.bound))
        fail(fmt::format("`{}.bound` must be finite and >= 0, got `{}`", at, s.bound));
    }
    s.role = text(e, at, "role", "");
    // State is f32; anything outside state_bytes would be written past the
    // runtime's allocation.
    if (s.offset % 4 != 0) fail(fmt::format("`{}.offset` {} is not a multiple of 4", at, s.offset));
    if (!productAtMost(s.shape, (m.stateBytes - s.offset) / 4))
      fail(fmt::format("`{}` (`{}`) does not fit in `state_bytes` {}", at, s.name, m.stateBytes));
    m.state.push_back(std::move(s));
  }

  m.scratchFixedBytes = integer(root, "", "scratch_fixed_bytes", 0);
  m.scratchPerSampleBytes = integer(root, "", "scratch_per_sample_bytes", 0);

  const Json &io = *array(root, "", "io", true);
  std::set<int> ioSlots;
  std::set<std::string> ioNames;
  for (size_t i = 0; i < io.size(); ++i) {
    std::string at = fmt::format("io[{}]", i);
    const Json &e = io[i];
    if (!e.is_object()) wrongType(at, "an object", e);
    IoSpec s;
    s.slot = int(integer(e, at, "slot", 0));
    if (s.slot > 1 << 16) fail(fmt::format("`{}.slot` is too large: {}", at, s.slot));
    if (!ioSlots.insert(s.slot).second) fail(fmt::format("`{}.slot` {} is used twice", at, s.slot));
    s.name = text(e, at, "name");
    if (!ioNames.insert(s.name).second) fail(fmt::format("`{}.name` `{}` is used twice", at, s.name));
    s.dtype = oneOf(e, at, "dtype", {"f32", "i64"});
    s.shape = shape(e, at, "shape", true);
    if (!productAtMost(s.shape, int64_t(1) << 40)) fail(fmt::format("`{}.shape` is too large", at));
    m.io.push_back(std::move(s));
  }

  if (const Json *metrics = array(root, "", "metrics", false)) {
    for (size_t i = 0; i < metrics->size(); ++i) {
      std::string at = fmt::format("metrics[{}]", i);
      const Json &e = (*metrics)[i];
      if (!e.is_object()) wrongType(at, "an object", e);
      MetricSpec s;
      s.name = text(e, at, "name");
      s.average = text(e, at, "average", "");
      s.k = integer(e, at, "k", 1, 5);
      m.metrics.push_back(std::move(s));
    }
  }
  parseRunConfig(root, m);
  if (const ConfigEntry *v = m.configEntry("trainer.val_every"); v && v->kind == "int")
    m.valEvery = std::max<int64_t>(1, std::stoll(v->text));
  return m;
}

}  // namespace mlcrt
