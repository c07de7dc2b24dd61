#include "src/Cli.h"

#include "abi/plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <thread>

#ifndef MLCRT_VERSION  // set by runtime/CMakeLists.txt; this only serves builds outside it
#define MLCRT_VERSION "unknown"
#endif

namespace mlcrt {

namespace {

const char *const kModes[] = {"fit", "train", "test", "predict", "tune", "study", "report"};

struct OptionInfo {
  const char *name, *arg, *doc;
};

// The options with a value, then the flags; --help prints them in this order.
const OptionInfo kOptions[] = {
    {"threads", "N", "worker threads for the math (default: the hardware threads, {})"},
    {"seed", "N", "seed of initialisation, dropout and data order (the same as trainer.seed=N)"},
    {"root", "DIR", "directory of every output: train/ (checkpoints), test/, runs/, mlruns/ (default: .)"},
    {"ckpt", "WHICH", "test, predict: the weights: best, last, init (untrained) or a checkpoint path (default: the final model)"},
    {"input", "FILE", "predict: a CSV of the feature columns, one sample a row, instead of the test split"},
    {"save-state", "FILE", "after fit: write the trained state's raw bytes to FILE"},
    {"load-state", "FILE", "start from the raw state bytes in FILE (from --save-state) instead of initialising"},
    {"resume", nullptr, "continue from the newest valid checkpoint of this run (fails when there is none)"},
    {"plan", nullptr, "print parameters, FLOPs per step, memory and output paths, and stop"},
    {"dry-run", nullptr, "check the configuration and the data and print what would run, writing nothing"},
    {"output", "FILE", "report: where to write the HTML report (default: ROOT/tune/STUDY/report.html)"},
    {"bench", nullptr, "after fit: print `bench: samples=N train_seconds=S samples_per_second=X first_step_ms=T` (train steps only)"},
    {"help", nullptr, "print this help"},
    {"version", nullptr, "print the version"},
};

[[noreturn]] void usage(const std::string &message) { throw UsageError(message); }

int hardwareThreads() {
  unsigned n = std::thread::hardware_concurrency();
  return n ? int(n) : 1;  // 0 means unknown
}

// Edit distance with adjacent swaps counted as one edit (optimal string
// alignment), so `optimizer.rl` is one edit from `optimizer.lr`.
size_t editDistance(const std::string &a, const std::string &b) {
  std::vector<size_t> before(b.size() + 1), prev(b.size() + 1), row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t substitute = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({prev[j] + 1, row[j - 1] + 1, substitute});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) row[j] = std::min(row[j], before[j - 2] + 1);
    }
    std::swap(before, prev);
    std::swap(prev, row);
  }
  return prev[b.size()];
}

std::string didYouMean(const std::string &name, const std::vector<std::string> &candidates, const char *quote = "`") {
  std::string best = closestMatch(name, candidates);
  return best.empty() ? "" : fmt::format(", did you mean {}{}{}?", quote, best, quote);
}

std::optional<int64_t> parseInt(std::string_view s) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<double> parseFloat(std::string_view s) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::string rangeText(const SchemaEntry &e) {
  if (e.type == "enum") {
    std::string list;
    for (const std::string &v : e.values) list += (list.empty() ? "" : "|") + v;
    return list;
  }
  if (e.min && e.max)
    return fmt::format("{}{}, {}{}", e.minOpen ? '(' : '[', *e.min, *e.max, e.maxOpen ? ')' : ']');
  if (e.min) return fmt::format("{} {}", e.minOpen ? ">" : ">=", *e.min);
  if (e.max) return fmt::format("{} {}", e.maxOpen ? "<" : "<=", *e.max);
  return "";
}

bool inRange(const SchemaEntry &e, double v) {
  if (e.min && (e.minOpen ? !(v > *e.min) : !(v >= *e.min))) return false;
  if (e.max && (e.maxOpen ? !(v < *e.max) : !(v <= *e.max))) return false;
  return true;
}

// Checks one key=value against its schema entry and fills in its value.
void checkValue(Override &o) {
  const SchemaEntry &e = *o.entry;
  auto expected = [&](const std::string &what) {
    usage(fmt::format("`{}` expects {}, got `{}`", o.key, what, o.text));
  };
  if (e.type == "int") {
    std::optional<int64_t> v = parseInt(o.text);
    if (!v) expected("an int");
    o.integer = *v;
    o.number = double(*v);
  } else if (e.type == "float") {
    std::optional<double> v = parseFloat(o.text);
    if (!v) expected("a float");
    o.number = *v;
  } else if (e.type == "bool") {
    if (o.text != "true" && o.text != "false") expected("`true` or `false`");
    o.number = o.text == "true" ? 1 : 0;
  } else if (e.type == "enum") {
    auto it = std::find(e.values.begin(), e.values.end(), o.text);
    if (it == e.values.end()) {
      std::string list;
      for (const std::string &v : e.values) list += fmt::format("{}`{}`", list.empty() ? "" : ", ", v);
      usage(fmt::format("`{}` expects one of {}, got `{}`{}", o.key, list, o.text, didYouMean(o.text, e.values)));
    }
    o.number = double(it - e.values.begin());
  } else if (e.type == "metric") {
    if (std::find(e.values.begin(), e.values.end(), o.text) == e.values.end())
      usage(fmt::format("`{}` expects a metric this experiment produces, got `{}`{}", o.key, o.text,
                        didYouMean(o.text, e.values)));
  } else if (e.type == "interval") {
    if (!parseInterval(o.text))
      usage(fmt::format("`{}` expects `epoch`, `epoch(n)`, `steps(n)` or `minutes(x)` with n > 0, got `{}`", o.key,
                        o.text));
  }
  if ((e.type == "int" || e.type == "float") && !inRange(e, o.number)) {
    std::string range = rangeText(e);
    usage(fmt::format("`{}` must be {}{}, got `{}`", o.key, range[0] == '[' || range[0] == '(' ? "in " : "", range,
                      o.text));
  }
}

// early_stop.*, checkpoint.*, track.*: the sections the runtime carries out.
bool applyLifecycleOverride(Manifest &m, const Override &o) {
  const std::string &k = o.key;
  if (k.rfind("early_stop.", 0) == 0) {
    if (!m.earlyStop) return false;
    EarlyStopSpec &e = *m.earlyStop;
    if (k == "early_stop.monitor") e.monitor = o.text;
    else if (k == "early_stop.mode") e.mode = o.text;
    else if (k == "early_stop.patience") e.patience = o.integer;
    else if (k == "early_stop.min_delta") e.minDelta = o.number;
    else if (k == "early_stop.stop_below") e.stopBelow = o.number;
    else if (k == "early_stop.stop_above") e.stopAbove = o.number;
    else if (k == "early_stop.divergence") e.divergence = o.number;
    else if (k == "early_stop.check_finite") e.checkFinite = o.number != 0;
    else return false;
    return true;
  }
  CheckpointSpec &c = m.checkpoint;
  if (k == "checkpoint.monitor") c.monitor = o.text;
  else if (k == "checkpoint.mode") c.mode = o.text;
  else if (k == "checkpoint.top_k") c.topK = o.integer;
  else if (k == "checkpoint.every") c.every = *parseInterval(o.text);
  else if (k == "checkpoint.save_last") c.saveLast = o.number != 0;
  else if (k == "checkpoint.resume") c.resume = o.text;
  else if (k == "checkpoint.dir") c.dir = o.text;
  else if (k == "track.project") m.track.project = o.text;
  else if (k == "track.run") m.track.run = o.text;
  else if (k == "track.dir") m.track.dir = o.text;
  else return false;
  return true;
}

const OptionInfo *findOption(const std::string &name) {
  for (const OptionInfo &o : kOptions)
    if (name == o.name) return &o;
  return nullptr;
}

}  // namespace

std::string closestMatch(const std::string &name, const std::vector<std::string> &candidates) {
  std::string best;
  // Up to a third of the name may be wrong (at least one character).
  size_t bestDistance = std::max<size_t>(1, name.size() / 3) + 1;
  for (const std::string &c : candidates) {
    size_t d = editDistance(name, c);
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  return best;
}

Override parseOverride(const Manifest &manifest, const std::string &key, const std::string &text) {
  Override o;
  o.key = key;
  o.text = text;
  o.entry = manifest.schemaEntry(o.key);
  if (!o.entry) {
    std::vector<std::string> keys;
    for (const SchemaEntry &e : manifest.schema) keys.push_back(e.key);
    usage(fmt::format("unknown key `{}`{}", o.key, didYouMean(o.key, keys)));
  }
  if (o.entry->fixed) {
    // A sweep compiled a variant for each value of this key: one of those
    // picks its program.
    auto it = manifest.variantValues.find(o.key);
    if (it == manifest.variantValues.end())
      usage(fmt::format("`{}` is fixed when the experiment is compiled (it shapes the step program); change it in "
                        "the spec and compile again",
                        o.key));
    const std::vector<std::string> &values = it->second;
    if (std::find(values.begin(), values.end(), o.text) == values.end()) {
      std::string list;
      for (const std::string &v : values) list += (list.empty() ? "" : ", ") + v;
      usage(fmt::format("`{}` = {} was not compiled; the sweep compiled {}", o.key, o.text, list));
    }
    o.variant = true;
    return o;
  }
  checkValue(o);
  return o;
}

Options parseCommandLine(const Manifest &manifest, const std::vector<std::string> &args) {
  Options options;
  options.threads = hardwareThreads();
  // --help and --version answer whatever else the line holds: a user
  // asking for help has probably got the rest wrong.
  for (const std::string &a : args) {
    if (a == "--help" || a == "-h") options.help = true;
    if (a == "--version") options.version = true;
  }
  if (options.help || options.version) return options;

  bool modeGiven = false;
  std::string modeText;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &a = args[i];
    if (a.size() > 2 && a.compare(0, 2, "--") == 0) {
      size_t eq = a.find('=');
      std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      const OptionInfo *info = findOption(name);
      if (!info) {
        std::vector<std::string> names;
        for (const OptionInfo &o : kOptions) names.push_back(std::string("--") + o.name);
        usage(fmt::format("unknown option `--{}`{}", name, didYouMean("--" + name, names)));
      }
      if (!info->arg && eq == std::string::npos) {
        (name == "bench" ? options.bench : name == "resume" ? options.resume : name == "plan" ? options.plan
                                                                                          : options.dryRun) = true;
        continue;
      }
      if (!info->arg) usage(fmt::format("`--{}` takes no value", name));
      std::string value;
      if (eq != std::string::npos) {
        value = a.substr(eq + 1);
      } else {
        if (i + 1 == args.size()) usage(fmt::format("`--{}` needs a value: `--{} {}`", name, name, info->arg));
        value = args[++i];
      }
      if (name == "threads") {
        std::optional<int64_t> n = parseInt(value);
        if (!n || *n < 1 || *n > 4096) usage(fmt::format("`--threads` expects an int in [1, 4096], got `{}`", value));
        options.threads = int(*n);
        options.threadsGiven = true;
      } else if (name == "seed") {
        Override o;
        o.key = "trainer.seed";
        o.text = value;
        o.entry = manifest.schemaEntry(o.key);
        o.fromOption = true;
        if (o.entry) {
          checkValue(o);  // the schema's range, if it has one
        } else {
          std::optional<int64_t> n = parseInt(value);
          if (!n) usage(fmt::format("`--seed` expects an int, got `{}`", value));
          o.integer = *n;
          o.number = double(*n);
        }
        options.overrides.push_back(std::move(o));
      } else {
        if (value.empty()) usage(fmt::format("`--{}` needs a non-empty value", name));
        (name == "root"         ? options.root
         : name == "ckpt"       ? options.ckpt
         : name == "input"      ? options.input
         : name == "save-state" ? options.saveState
         : name == "output"     ? options.output
                                : options.loadState) = value;
      }
    } else if (a.size() > 1 && a[0] == '-') {
      usage(fmt::format("unknown option `{}`", a));
    } else if (size_t eq = a.find('='); eq != std::string::npos) {
      if (eq == 0) usage(fmt::format("`{}` has no key before `=`", a));
      options.overrides.push_back(parseOverride(manifest, a.substr(0, eq), a.substr(eq + 1)));
    } else {
      std::vector<std::string> modes(std::begin(kModes), std::end(kModes));
      if (std::find(modes.begin(), modes.end(), a) == modes.end())
        usage(fmt::format("unknown mode `{}`{} (modes: fit, train, test, predict; a key needs `key=value`)", a,
                          didYouMean(a, modes)));
      if (modeGiven) usage(fmt::format("two modes given: `{}` and `{}`", modeText, a));
      modeGiven = true;
      modeText = a;
      options.mode = a == "fit" || a == "train" ? Mode::Fit
                     : a == "test"              ? Mode::Test
                     : a == "predict"           ? Mode::Predict
                     : a == "tune"              ? Mode::Tune
                     : a == "study"             ? Mode::Study
                                                : Mode::Report;
      if (manifest.sweepJson.empty() && (options.mode == Mode::Tune || options.mode == Mode::Study || options.mode == Mode::Report))
        usage(fmt::format("`{}` needs a `sweep` block in the experiment; this one has none", a));
    }
  }

  for (size_t i = 0; i < options.overrides.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      const Override &a = options.overrides[j], &b = options.overrides[i];
      if (a.key != b.key) continue;
      if (a.fromOption || b.fromOption) usage(fmt::format("`{}` is given twice (`--seed` sets it too)", b.key));
      usage(fmt::format("`{}` is given twice: `{}` and `{}`", b.key, a.text, b.text));
    }
  }
  if (!options.input.empty() && options.mode != Mode::Predict)
    usage("`--input` needs the `predict` mode");
  if (!options.saveState.empty() && options.mode != Mode::Fit && options.mode != Mode::FitTest)
    usage("`--save-state` needs a mode that fits (`fit`, or no mode)");
  if (!options.ckpt.empty() && options.mode != Mode::Test && options.mode != Mode::Predict)
    usage("`--ckpt` needs the `test` or `predict` mode");
  if (options.resume && options.mode != Mode::Fit && options.mode != Mode::FitTest && options.mode != Mode::Tune)
    usage("`--resume` needs a mode that fits or tunes (`fit`, `tune`, or no mode)");
  if (!options.output.empty() && options.mode != Mode::Report) usage("`--output` needs the `report` mode");
  return options;
}

std::vector<std::string> applyOverrides(Manifest &manifest, const Options &options) {
  std::vector<std::string> warnings;
  for (const Override &o : options.overrides) {
    if (o.variant) continue;  // the variant's own manifest holds its value
    if (o.entry && o.entry->hparam >= 0)
      for (HParamSpec &h : manifest.hparams)
        if (h.slot == o.entry->hparam) h.value = o.number;
    // Numbers as the compiler writes them, so `lr=3e-4` names a run as
    // `lr=0.0003` in the spec would.
    std::string type = o.entry ? o.entry->type : "";
    manifest.setConfig(o.key, type == "float" ? fmt::format("{}", o.number)
                              : type == "int" ? std::to_string(o.integer)
                                              : o.text);
    if (o.entry && o.entry->hparam >= 0) continue;
    if (o.key.rfind("sweep.", 0) == 0) continue;  // the tuner's settings
    if (o.key == "trainer.epochs") manifest.epochs = o.integer;
    else if (o.key == "trainer.batch") manifest.batch = o.integer;
    else if (o.key == "trainer.accumulate") manifest.accumulate = o.integer;
    else if (o.key == "trainer.seed") manifest.seed = uint64_t(o.integer);
    else if (o.key == "data.seed") manifest.data.seed = uint64_t(o.integer);
    else if (o.key == "trainer.val_every") manifest.valEvery = o.integer;
    else if (!applyLifecycleOverride(manifest, o))
      warnings.push_back(fmt::format("`{}` has no effect in this runtime yet; it is ignored", o.key));
  }
  // Values the schema does not bound could still not run.
  if (manifest.epochs < 1) throw UsageError(fmt::format("`trainer.epochs` must be >= 1, got `{}`", manifest.epochs));
  if (manifest.batch < 1) throw UsageError(fmt::format("`trainer.batch` must be >= 1, got `{}`", manifest.batch));
  if (manifest.accumulate < 1)
    throw UsageError(fmt::format("`trainer.accumulate` must be >= 1, got `{}`", manifest.accumulate));
  return warnings;
}

std::string helpText(const Manifest &m, const std::string &program) {
  bool sweep = !m.sweepJson.empty();
  std::string out = fmt::format("usage: {} [fit|train|test|predict{}] [options] [key=value ...]\n\n", program,
                                sweep ? "|tune|study|report" : "");
  out += fmt::format("Experiment `{}`", m.experiment);
  if (!m.model.empty()) out += fmt::format(": model `{}`", m.model);
  if (!m.dataName.empty()) out += fmt::format(" on data `{}`", m.dataName);
  out += fmt::format(" ({}", m.task);
  if (m.task == "classification") out += fmt::format(", {} classes", m.classes);
  out += ")\n";
  if (!m.source.empty()) out += fmt::format("compiled from {}\n", m.source);

  out += "\nmodes:\n"
         "  fit        train on the train split, evaluating the val split after every epoch (also: train)\n"
         "  test       evaluate the test split with the final model (or --ckpt)\n"
         "  predict    write the predictions for the test split (or --input) to ROOT/test/.../predictions.csv\n";
  if (sweep)
    out += "  tune       run the sweep's study (--resume continues one), refit the best configuration, test it, report\n"
           "  study      print the study's trials\n"
           "  report     write the study's HTML report (ROOT/tune/STUDY/report.html, or --output)\n"
           "  (none)     tune\n";
  else
    out += "  (none)     fit, then test\n";
  out += "The run ends with one line on standard output: `split.metric=value` for each final metric.\n";

  out += "\noptions:\n";
  for (const OptionInfo &o : kOptions) {
    std::string head = o.arg ? fmt::format("--{} {}", o.name, o.arg) : fmt::format("--{}", o.name);
    std::string doc = fmt::format(fmt::runtime(o.doc), hardwareThreads());
    out += fmt::format("  {:<19} {}\n", head, doc);
  }

  out += "\nkeys (key=value, checked before the run starts):\n";
  if (m.schema.empty()) {
    out += "  (none)\n";
  } else {
    size_t keyWidth = 3, typeWidth = 4, defaultWidth = 7, rangeWidth = 5;
    for (const SchemaEntry &e : m.schema) {
      if (e.fixed) continue;
      keyWidth = std::max(keyWidth, e.key.size());
      typeWidth = std::max(typeWidth, e.type.size());
      defaultWidth = std::max(defaultWidth, e.defaultText.empty() ? 4 : e.defaultText.size());
      rangeWidth = std::max(rangeWidth, rangeText(e).size());
    }
    auto row = [&](const std::string &key, const std::string &type, const std::string &def, const std::string &range,
                   const std::string &doc) {
      std::string line = fmt::format("  {:<{}}  {:<{}}  {:<{}}  {:<{}}  {}", key, keyWidth, type, typeWidth, def,
                                     defaultWidth, range, rangeWidth, doc);
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out += line + "\n";
    };
    row("KEY", "TYPE", "DEFAULT", "RANGE", "");
    for (const SchemaEntry &e : m.schema) {
      if (e.fixed) continue;
      std::string range = rangeText(e);
      row(e.key, e.type, e.defaultText.empty() ? "none" : e.defaultText, range.empty() ? "-" : range, e.doc);
    }
  }
  std::string fixed, variants;
  for (const SchemaEntry &e : m.schema) {
    auto v = m.variantValues.find(e.key);
    if (e.fixed && v != m.variantValues.end()) {
      std::string values;
      for (const std::string &x : v->second) values += (values.empty() ? "" : "|") + x;
      variants += fmt::format("  {}={}\n", e.key, values);
    } else if (e.fixed) {
      fixed += (fixed.empty() ? "" : ", ") + e.key;
    }
  }
  if (!variants.empty()) out += "\ncompiled variants (key=value picks a variant's program):\n" + variants;
  if (!fixed.empty()) out += "\nfixed when compiled (change the spec and compile again):\n  " + fixed + "\n";
  out += "\nexit status: 0 success, 1 a run-time error (data, files), 2 a usage error\n";
  return out;
}

std::string versionText(const Manifest &m) {
  return fmt::format("{} (mlc runtime {}, plan abi {})\n", m.experiment, MLCRT_VERSION, MLC_PLAN_ABI_VERSION);
}

}  // namespace mlcrt
