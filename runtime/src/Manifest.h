// The plan's manifest (abi/manifest.md) as the runtime uses it. Parsing
// checks every key it needs and names the missing or mistyped one.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace mlcrt {

/// A bad manifest, data file or command line: the message says where.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// `text` with control characters spelt `\xNN`: messages quote command
/// lines, data files and servers' answers, which must not drive the terminal.
std::string printable(std::string_view text);

struct DataSpec {
  std::string kind;  // csv | idx | npy | tokens
  // csv
  std::string path;
  bool header = false;
  char delimiter = ',';
  std::optional<std::pair<int64_t, int64_t>> featureRange;  // half-open
  std::vector<std::string> featureColumns;  // names or decimal indices, when no range
  std::string label;                        // column name or decimal index
  // idx
  std::string images, labels, testImages, testLabels;
  // npy
  std::string featuresPath, labelsPath;
  // tokens
  std::string tokensPath;
  int64_t context = 0;

  std::string normalize = "none";  // none | minmax | standard
  std::vector<std::pair<std::string, double>> splits;  // train, val, test fractions
  uint64_t seed = 0;
  std::vector<int64_t> featureShape;  // per sample
  bool classLabels = true;            // i64 class ids (else f32 targets)
  std::vector<int64_t> labelShape;    // per sample
  int64_t classes = 0;
};

struct HParamSpec {
  int slot = 0;
  std::string key;
  double value = 0;
  bool counter = false;
};

struct SchemaEntry {
  std::string key, type, doc;  // type: int | float | bool | string | enum | metric | interval | template
  std::string defaultText;     // as printed by --help
  double defaultNumber = 0;
  std::vector<std::string> values;  // enum
  std::optional<double> min, max;
  bool minOpen = false, maxOpen = false;
  int hparam = -1;  // the slot it sets, or -1 when the runtime reads it
  bool fixed = false;     // compiled into the step program: an override is refused
};

/// One key of the resolved configuration, every field with defaults
/// included: what a run records and what name templates read.
struct ConfigEntry {
  std::string key, text;  // text: strings bare, numbers as JSON writes them
  std::string kind;       // int | float | bool | string
};

/// How often something happens: every n epochs, n optimizer steps or n
/// minutes of training.
struct IntervalSpec {
  std::string unit = "epoch";  // epoch | steps | minutes
  double n = 1;
};

struct EarlyStopSpec {
  std::string monitor = "val.loss", mode = "min";
  int64_t patience = 5;
  double minDelta = 0;
  std::optional<double> stopBelow, stopAbove, divergence;
  bool checkFinite = true;
};

struct CheckpointSpec {
  std::string monitor = "val.loss", mode = "min";
  int64_t topK = 1;
  IntervalSpec every;
  bool saveLast = true;
  std::string resume = "auto";  // auto | never | must
  std::string dir = "{model}/{data}/{model.int_params}-bs{batch}";
};

struct SinkSpec {
  std::string kind;  // console | jsonl | csv_log | tensorboard | mlflow
  int64_t every = 1;
  std::string uri;   // mlflow
};

struct NotifySpec {
  std::string kind;                 // webhook | command
  std::string target;               // the url or the shell command, when written as a literal
  std::string targetEnv;            // when written as env("NAME"): read when a notification is sent
  std::vector<std::string> events;  // start | finish | failure | early_stop | best | epoch
};

struct TrackSpec {
  std::string project = "{model}-{data}", run = "{model.int_params}-bs{batch}-lr{lr}", dir = "runs";
  std::vector<SinkSpec> sinks;
  std::vector<NotifySpec> notify;
};

struct StateSpec {
  std::string name, init, role;
  int64_t offset = 0;
  std::vector<int64_t> shape;
  double bound = 0;
  int64_t elements() const;
};

struct IoSpec {
  int slot = 0;
  std::string name, dtype;  // f32 | i64
  std::vector<int64_t> shape;  // -1 = batch
  int64_t perSampleElements() const;  // all elements when not batched
  bool batched() const { return !shape.empty() && shape[0] == -1; }
};

struct MetricSpec {
  std::string name;     // accuracy, f1, precision, recall, top_k_accuracy, auroc, mse, mae, rmse, r2, perplexity
  std::string average;  // micro | macro | weighted (f1, precision, recall, auroc)
  int64_t k = 5;        // top_k_accuracy
  std::string label() const;  // the printed name: `f1`, `top_k_accuracy`
};

struct Manifest {
  std::string experiment, model, dataName, source, task;
  int64_t classes = 0;
  DataSpec data;
  int64_t epochs = 1, batch = 1, accumulate = 1, valEvery = 1;
  uint64_t seed = 0;
  std::vector<HParamSpec> hparams;
  std::vector<SchemaEntry> schema;
  int64_t stateBytes = 0, scratchFixedBytes = 0, scratchPerSampleBytes = 0;
  std::vector<StateSpec> state;
  std::vector<IoSpec> io;
  std::vector<MetricSpec> metrics;

  std::vector<ConfigEntry> config;
  std::vector<std::string> namingParams;  // `model.hidden`, ...: int and categorical model parameters
  std::vector<std::pair<std::string, std::string>> aliases;  // template names: `lr` -> `optimizer.lr`
  std::optional<EarlyStopSpec> earlyStop;
  CheckpointSpec checkpoint;
  TrackSpec track;
  double trainFlopsPerSample = 0, trainFlopsPerStep = 0, applyFlopsPerStep = 0;
  /// The sweep's trial graph (tune/SweepSpec.h parses it), as JSON text;
  /// empty without a sweep. `variant`: which compiled variant this is.
  std::string sweepJson;
  int variant = 0;
  /// Compiled keys with a variant per value: the values compiled.
  std::map<std::string, std::vector<std::string>> variantValues;

  const IoSpec *ioNamed(const std::string &name) const;
  const SchemaEntry *schemaEntry(const std::string &key) const;
  int hparamSlot(const std::string &key) const;  // -1 if absent
  /// Optimizer updates in an epoch over `trainSamples`: ceil(ceil(n /
  /// batch) / accumulate), the last batch and accumulation maybe partial.
  int64_t stepsPerEpoch(int64_t trainSamples) const;
  const ConfigEntry *configEntry(const std::string &key) const;
  void setConfig(const std::string &key, const std::string &text);  // adds the key when absent
};

/// `epoch`, `epoch(2)`, `steps(500)`, `minutes(30)`; nullopt when malformed.
std::optional<IntervalSpec> parseInterval(const std::string &text);

/// Throws Error naming the key on a missing or mistyped field.
Manifest parseManifest(const std::string &json);

}  // namespace mlcrt
