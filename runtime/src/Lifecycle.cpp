#include "src/Lifecycle.h"

#include "abi/plan.h"
#include "src/CheckpointStore.h"
#include "src/FileIO.h"
#include "src/Notify.h"
#include "src/track/Sink.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <unistd.h>

#ifndef MLCRT_VERSION
#define MLCRT_VERSION "unknown"
#endif

namespace mlcrt {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

// Set by SIGINT/SIGTERM; the loop stops at the next step boundary, after a
// checkpoint. The handler then steps aside, so a second signal kills.
volatile std::sig_atomic_t gSignal = 0;

extern "C" void onStopSignal(int sig) {
  gSignal = sig;
  std::signal(sig, SIG_DFL);
}

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string newRunId() {
  uint64_t a = mlc_mix64(uint64_t(nowMs()) ^ (uint64_t(::getpid()) << 32));
  uint64_t b = mlc_mix64(a ^ uint64_t(std::chrono::steady_clock::now().time_since_epoch().count()));
  return fmt::format("{:016x}{:016x}", a, b);
}

Json configJson(const Manifest &m) {
  Json c = Json::object();
  for (const ConfigEntry &e : m.config) {
    Json v = e.text;
    if (e.kind == "int" || e.kind == "float" || e.kind == "bool") {
      try {
        v = Json::parse(e.text);
      } catch (const std::exception &) {
        v = e.text;  // an override's text that JSON spells differently
      }
    }
    c[e.key] = v;
  }
  return c;
}

Json metricsJson(const Metrics &metrics) {
  Json j = Json::object();
  for (const auto &[k, v] : metrics) j[k] = v;
  return j;
}

Metrics metricsFrom(const Json &j) {
  Metrics out;
  if (j.is_object())
    for (auto it = j.begin(); it != j.end(); ++it)
      if (it.value().is_number()) out.emplace_back(it.key(), it.value().get<double>());
  return out;
}

// Reads `dir/run.json`, or null when it is missing or unreadable.
Json readRunFile(const fs::path &dir) {
  std::error_code ec;
  if (!fs::is_regular_file(dir / "run.json", ec)) return nullptr;
  try {
    Json j = Json::parse(readFile(dir / "run.json"));
    return j.is_object() ? j : Json(nullptr);
  } catch (const std::exception &) {
    return nullptr;
  }
}

fs::path versionDir(const fs::path &base, int k) {
  return k == 1 ? base : fs::path(base.string() + "." + std::to_string(k));
}

struct TopK {
  double value = 0;
  int64_t epoch = 0, step = 0;
  std::string stem;
};

}  // namespace

struct Lifecycle::Impl {
  const Manifest &m;
  const Options &o;
  std::string mode;
  std::string hash, runId;
  track::Tracker tracker;
  bool trackerStarted = false, ended = false;
  EarlyStopping early;
  std::unique_ptr<CheckpointStore> store;
  std::vector<TopK> topK;
  std::string newest, previous;  // the two newest checkpoints: resume and its fallback
  int64_t totalSteps = 0, batchesPerEpoch = 0, resumeStep = 0;
  double lastCheckpointSeconds = 0;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  double trainSecondsBefore = 0;
  Metrics lastMetrics;
  bool resumed = false;
  struct sigaction oldInt {}, oldTerm {};
  bool handlers = false;

  Impl(const Manifest &m, const Options &o, std::string mode)
      : m(m), o(o), mode(std::move(mode)), hash(configHash(m)), early(m.earlyStop ? *m.earlyStop : EarlyStopSpec{}) {
    if (!m.earlyStop) {  // the NaN check stays on without a block; nothing else does
      EarlyStopSpec spec;
      spec.monitor.clear();
      early = EarlyStopping(spec);
    }
  }

  double seconds() const {
    return trainSecondsBefore + std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  std::vector<TensorView> stateTensors(const char *state) const {
    std::vector<TensorView> out;
    for (const StateSpec &s : m.state)
      out.push_back({s.name, "F32", s.shape, state + s.offset, size_t(s.elements()) * 4});
    return out;
  }

  void startTracking(const RunPaths &paths, const fs::path &trackDir) {
    if (trackerStarted) return;
    bool terminal = ::isatty(2) == 1;
    for (const SinkSpec &s : m.track.sinks) {
      std::string name = s.kind == "csv_log" ? "csv" : s.kind;
      if (s.kind == "console") tracker.add(name, track::makeConsoleSink(std::cerr, terminal, int(s.every)));
      else if (s.kind == "jsonl") tracker.add(name, track::makeJsonlSink());
      else if (s.kind == "csv_log") tracker.add(name, track::makeCsvSink());
      else if (s.kind == "tensorboard") tracker.add(name, track::makeTensorBoardSink());
      else if (s.kind == "mlflow") tracker.add(name, track::makeMlflowSink());
    }
    track::RunInfo info;
    info.project = paths.project;
    info.run = paths.run;
    info.mode = mode;
    info.experiment = m.experiment;
    info.runId = runId.empty() ? newRunId() : runId;
    info.startMs = nowMs();
    for (const ConfigEntry &e : m.config) info.config.emplace_back(e.key, e.text);
    info.runDir = trackDir;
    info.mlflowRoot = paths.mlflowRoot;
    info.resumed = resumed;
    info.resumeStep = resumeStep;
    info.totalSteps = totalSteps;
    info.epochs = m.epochs;
    tracker.start(info);
    trackerStarted = true;
  }

  std::string summary(const std::string &event, const std::string &status, const std::string &reason,
                      const Metrics &final, const RunPaths &paths, const fs::path &runDir) const {
    Json j;
    j["event"] = event;
    j["experiment"] = m.experiment;
    j["project"] = paths.project;
    j["run"] = paths.run;
    j["mode"] = mode;
    j["status"] = status;
    if (!reason.empty()) j["reason"] = reason;
    if (!topK.empty()) {
      j["best"] = {{"metric", m.checkpoint.monitor}, {"value", topK[0].value}, {"epoch", topK[0].epoch},
                   {"checkpoint", (runDir / (topK[0].stem + ".safetensors")).string()}};
    } else if (early.state().hasBest) {
      j["best"] = {{"metric", early.spec().monitor}, {"value", early.state().best}, {"epoch", early.state().bestEpoch}};
    }
    j["metrics"] = metricsJson(final);
    j["seconds"] = seconds();
    if (!runDir.empty()) j["model"] = (runDir / "model.safetensors").string();
    return j.dump();
  }

  void notify(const std::string &event, const std::string &summaryJson) const {
    for (const NotifierSpec &n : m.track.notify) {
      if (std::find(n.events.begin(), n.events.end(), event) == n.events.end()) continue;
      NotifySpec spec{n.kind, n.target, n.targetEnv, n.events};
      mlcrt::notify(spec, event, summaryJson);
    }
  }

  void writeRunFile(const fs::path &dir, const std::string &status, const std::string &reason, const Metrics &final) {
    Json j;
    j["run_id"] = runId;
    j["experiment"] = m.experiment;
    j["config_hash"] = hash;
    j["mlc_version"] = MLCRT_VERSION;
    j["status"] = status;
    if (!reason.empty()) j["reason"] = reason;
    j["finished"] = status != "running" && status != "killed";
    if (!final.empty()) j["metrics"] = metricsJson(final);
    j["config"] = configJson(m);
    writeFileAtomically(dir / "run.json", j.dump(2) + "\n");
  }

  Json checkpointMeta(const TrainPosition &pos, bool finished) const {
    Json j;
    j["format"] = "mlc-checkpoint";
    j["version"] = 1;
    j["mlc_version"] = MLCRT_VERSION;
    j["experiment"] = m.experiment;
    j["run_id"] = runId;
    j["config_hash"] = hash;
    j["progress"] = {{"epoch", pos.epoch},       {"batch_in_epoch", pos.batch}, {"step", pos.step},
                     {"micro", pos.micro},       {"epoch_loss_sum", pos.lossSum}, {"epoch_samples", pos.seen},
                     {"train_seconds", pos.trainSeconds}, {"finished", finished}};
    j["data_order"] = {{"kind", "shuffled"},
                       {"seed", m.seed},
                       {"epoch", pos.epoch},
                       {"position", pos.batch * m.batch},
                       {"batch", m.batch}};
    j["rng"] = {{"seed", m.seed}, {"dropout_counter", pos.micro}};
    j["scheduler"] = {{"step", pos.step}, {"total_steps", totalSteps}};
    Json optimizer = Json::array();
    for (const StateSpec &s : m.state)
      if (s.role != "param") optimizer.push_back(s.name);
    j["optimizer"] = {{"state_tensors", optimizer}};
    const EarlyStopping::State &es = early.state();
    j["early_stop"] = {{"has_best", es.hasBest}, {"best", es.best}, {"best_epoch", es.bestEpoch}, {"wait", es.wait}};
    Json top = Json::array();
    for (const TopK &t : topK) top.push_back({{"value", t.value}, {"epoch", t.epoch}, {"step", t.step}, {"stem", t.stem}});
    j["top_k"] = {{"monitor", m.checkpoint.monitor}, {"mode", m.checkpoint.mode}, {"entries", top}};
    j["metrics"] = metricsJson(lastMetrics);
    j["threads"] = o.threads;
    j["config"] = configJson(m);
    return j;
  }

  void writeCheckpoint(const char *state, const TrainPosition &pos, bool finished = false) {
    std::string stem = fmt::format("epoch={}-step={}", pos.epoch, pos.step);
    store->write(stem, stateTensors(state), checkpointMeta(pos, finished).dump(),
                 {{"format", "pt"}, {"mlc.experiment", m.experiment}});
    if (stem != newest) {
      previous = newest;
      newest = stem;
    }
    lastCheckpointSeconds = pos.trainSeconds;
    prune();
  }

  // Keeps the top-k and the two newest (the newest may be torn by a crash
  // in the middle of a later write; the one before is the fallback).
  void prune() {
    for (const std::string &stem : store->list({"progress", "step"})) {
      bool keep = stem == newest || stem == previous;
      for (const TopK &t : topK) keep |= t.stem == stem;
      if (!keep) store->remove(stem);
    }
    // Tensors without their JSON: a write that a kill cut between its two
    // renames. Never a checkpoint (the JSON marks one), so they only take space.
    std::error_code ec;
    for (fs::directory_iterator it(store->dir(), ec), end; !ec && it != end; it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (name.rfind("epoch=", 0) != 0 || it->path().extension() != ".safetensors") continue;
      std::error_code missing;
      if (!fs::exists(fs::path(it->path()).replace_extension(".json"), missing)) fs::remove(it->path(), missing);
    }
  }

  void restore(const CheckpointStore::Loaded &c, char *state, TrainPosition &pos, Metrics &final) {
    Json j = Json::parse(c.metaJson);
    for (const StateSpec &s : m.state) {
      const SafetensorsFile::Tensor *t = c.tensors.find(s.name);
      if (!t || t->dtype != "F32" || t->shape != s.shape)
        throw Error(fmt::format("checkpoint `{}` has no F32 tensor `{}` of this experiment's shape",
                                store->tensorsPath(c.stem).string(), s.name));
      std::memcpy(state + s.offset, c.tensors.data(*t), size_t(s.elements()) * 4);
    }
    const Json &p = j.at("progress");
    pos.epoch = p.at("epoch").get<int64_t>();
    pos.batch = p.at("batch_in_epoch").get<int64_t>();
    pos.step = p.at("step").get<int64_t>();
    pos.micro = p.at("micro").get<uint64_t>();
    pos.lossSum = p.at("epoch_loss_sum").get<double>();
    pos.seen = p.at("epoch_samples").get<int64_t>();
    pos.trainSeconds = p.at("train_seconds").get<double>();
    const Json &es = j.at("early_stop");
    early.restore({es.at("has_best").get<bool>(), es.at("best").get<double>(), es.at("best_epoch").get<int64_t>(),
                   es.at("wait").get<int64_t>()});
    topK.clear();
    for (const Json &t : j.at("top_k").at("entries"))
      topK.push_back({t.at("value").get<double>(), t.at("epoch").get<int64_t>(), t.at("step").get<int64_t>(),
                      t.at("stem").get<std::string>()});
    lastMetrics = metricsFrom(j.at("metrics"));
    final = lastMetrics;
    newest = c.stem;
    resumeStep = pos.step;
    trainSecondsBefore = pos.trainSeconds;
    lastCheckpointSeconds = pos.trainSeconds;
    start = std::chrono::steady_clock::now();
    resumed = true;
  }

  void installHandlers() {
    struct sigaction sa {};
    sa.sa_handler = onStopSignal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &oldInt);
    sigaction(SIGTERM, &sa, &oldTerm);
    handlers = true;
  }

  ~Impl() {
    if (handlers) {
      sigaction(SIGINT, &oldInt, nullptr);
      sigaction(SIGTERM, &oldTerm, nullptr);
    }
  }
};

Lifecycle::Lifecycle(const Manifest &m, const Options &options, const char *mode)
    : impl_(std::make_unique<Impl>(m, options, mode)), paths_(runPaths(m, options.root, mode)) {}

Lifecycle::~Lifecycle() = default;

int Lifecycle::signalStatus() const { return gSignal ? 128 + int(gSignal) : 0; }

fs::path Lifecycle::testDir() const {
  // The test outputs of version `.k` of a run sit in version `.k` of test/.
  std::string suffix = runDir_.string().substr(std::min(runDir_.string().size(), paths_.trainDir.string().size()));
  return fs::path(paths_.testDir.string() + suffix);
}

bool Lifecycle::beginFit(char *state, TrainPosition &pos, int64_t totalSteps, int64_t batchesPerEpoch, Metrics &final) {
  Impl &I = *impl_;
  const Manifest &m = I.m;
  I.totalSteps = totalSteps;
  I.batchesPerEpoch = batchesPerEpoch;
  bool wantResume = I.o.resume || m.checkpoint.resume != "never";
  bool mustResume = I.o.resume || m.checkpoint.resume == "must";
  // Versions of the directory: `dir`, `dir.2`, ... A run continues in the
  // newest one holding its configuration; a new run takes the first free
  // one, so no earlier run's checkpoints are ever overwritten.
  fs::path fresh, matching;
  Json matchingRun, newestOther;
  for (int k = 1;; ++k) {
    fs::path d = versionDir(paths_.trainDir, k);
    std::error_code ec;
    if (!fs::exists(d, ec)) {
      fresh = d;
      break;
    }
    Json run = readRunFile(d);
    if (run.is_null()) continue;
    if (run.value("config_hash", "") == I.hash) {
      matching = d;
      matchingRun = run;
    } else {
      newestOther = run;
    }
  }
  bool resumeHere = wantResume && !matching.empty();
  if (mustResume && !resumeHere) {
    std::string why = fmt::format("nothing to resume: no run of this configuration under `{}`", paths_.trainDir.string());
    if (newestOther.is_object() && newestOther.contains("config")) {
      std::vector<std::pair<std::string, std::string>> recorded;
      for (auto it = newestOther["config"].begin(); it != newestOther["config"].end(); ++it)
        recorded.emplace_back(it.key(), it.value().is_string() ? it.value().get<std::string>() : it.value().dump());
      std::vector<std::string> diff = configDifferences(m, recorded);
      if (!diff.empty()) {
        why += "; the run there differs in";
        for (size_t i = 0; i < diff.size() && i < 5; ++i) why += (i ? ", " : " ") + diff[i];
      }
    }
    throw Error(why);
  }
  if (resumeHere && matchingRun.value("finished", false) && !I.o.resume) resumeHere = false;  // auto: a new run
  runDir_ = resumeHere ? matching : fresh;
  I.store = std::make_unique<CheckpointStore>(runDir_, "epoch=");
  I.runId = resumeHere ? matchingRun.value("run_id", newRunId()) : newRunId();
  bool finished = false;
  if (resumeHere) {
    auto loaded = I.store->newestValid({"progress", "step"}, [](const std::string &w) {
      std::cerr << "warning: " << w << '\n' << std::flush;
    });
    if (loaded) {
      I.restore(*loaded, state, pos, final);
      finished = Json::parse(loaded->metaJson).at("progress").value("finished", false) ||
                 matchingRun.value("finished", false);
      // The checkpoint loaded may be older than the run's end (the newest
      // was corrupt, or save_last is off): the run's last metrics are the
      // ones run.json recorded when it finished.
      if (finished && matchingRun.value("finished", false) && matchingRun.contains("metrics"))
        final = metricsFrom(matchingRun["metrics"]);
      std::cerr << fmt::format("{} `{}` (epoch {}, step {})\n", finished ? "already finished:" : "resuming from",
                               I.store->tensorsPath(loaded->stem).string(), pos.epoch, pos.step)
                << std::flush;
    } else if (mustResume) {
      throw Error(fmt::format("nothing to resume: `{}` holds no valid checkpoint", runDir_.string()));
    }
  }
  if (!resumeHere || !matchingRun.value("finished", false)) I.writeRunFile(runDir_, "running", "", {});
  I.installHandlers();
  I.startTracking(paths_, paths_.trackDir);
  if (!I.resumed) I.notify("start", I.summary("start", "running", "", {}, paths_, runDir_));
  return finished;
}

std::string Lifecycle::afterStep(const char *state, const TrainPosition &pos, double loss, int64_t samples) {
  Impl &I = *impl_;
  double elapsed = I.seconds() - I.trainSecondsBefore;
  track::Progress p;
  p.epoch = pos.epoch + 1;
  p.epochs = I.m.epochs;
  p.batch = pos.batch;
  p.batches = I.batchesPerEpoch;
  p.step = pos.step;
  p.totalSteps = I.totalSteps;
  p.loss = loss;
  p.samplesPerSecond = elapsed > 0 ? double(samples) / elapsed : 0;
  p.elapsedSeconds = elapsed;
  I.tracker.progress(p);
  if (auto why = I.early.checkLoss(pos.step, pos.epoch + 1, loss)) return *why;
  if (gSignal) {
    I.writeCheckpoint(state, pos);
    return fmt::format("stopped by {}", gSignal == SIGINT ? "SIGINT" : "SIGTERM");
  }
  const IntervalSpec &every = I.m.checkpoint.every;
  bool due = (every.unit == "steps" && pos.step % int64_t(every.n) == 0) ||
             (every.unit == "minutes" && pos.trainSeconds - I.lastCheckpointSeconds >= every.n * 60);
  if (due) I.writeCheckpoint(state, pos);
  return "";
}

std::string Lifecycle::afterEpoch(const char *state, const TrainPosition &pos, const Metrics &metrics) {
  Impl &I = *impl_;
  const Manifest &m = I.m;
  I.lastMetrics = metrics;
  I.tracker.metrics(pos.step, pos.epoch, metrics);
  std::optional<std::string> stop = I.early.update(pos.epoch, metrics);
  bool write = (m.checkpoint.every.unit == "epoch" && pos.epoch % int64_t(m.checkpoint.every.n) == 0) ||
               pos.epoch == m.epochs || stop;
  std::string stem = fmt::format("epoch={}-step={}", pos.epoch, pos.step);
  const double *value = nullptr;
  for (const auto &[k, v] : metrics)
    if (k == m.checkpoint.monitor) value = &v;
  bool newBest = false;
  if (value && std::isfinite(*value) && m.checkpoint.topK > 0) {
    auto worse = [&](const TopK &a, const TopK &b) { return improves(m.checkpoint.mode, a.value, b.value); };
    if (int64_t(I.topK.size()) < m.checkpoint.topK || improves(m.checkpoint.mode, *value, I.topK.back().value)) {
      newBest = I.topK.empty() || improves(m.checkpoint.mode, *value, I.topK.front().value);
      I.topK.push_back({*value, pos.epoch, pos.step, stem});
      std::stable_sort(I.topK.begin(), I.topK.end(), worse);
      if (int64_t(I.topK.size()) > m.checkpoint.topK) I.topK.pop_back();
      write = true;
    }
  }
  // A signal during the epoch's validation stops the run here: what resumes
  // it is this checkpoint, whatever the interval.
  if (write || gSignal) I.writeCheckpoint(state, pos);
  I.notify("epoch", I.summary("epoch", "running", "", metrics, paths_, runDir_));
  if (newBest) I.notify("best", I.summary("best", "running", "", metrics, paths_, runDir_));
  if (gSignal) return fmt::format("stopped by {}", gSignal == SIGINT ? "SIGINT" : "SIGTERM");
  return stop.value_or("");
}

void Lifecycle::endFit(const char *state, const TrainPosition &pos, const Metrics &final, const std::string &status,
                       const std::string &reason) {
  Impl &I = *impl_;
  const Manifest &m = I.m;
  if (status == "killed") {
    // Interrupted: the checkpoint written at the stop is what resumes it.
    I.writeRunFile(runDir_, "killed", reason, final);
  } else {
    if (m.checkpoint.saveLast) I.writeCheckpoint(state, pos, true);
    std::vector<TensorView> params;
    for (const TensorView &t : I.stateTensors(state)) {
      for (const StateSpec &s : m.state)
        if (s.name == t.name && s.role == "param") params.push_back(t);
    }
    // No time or host in the file: the same training gives the same bytes.
    writeFileAtomically(runDir_ / "model.safetensors",
                        encodeSafetensors(params, {{"format", "pt"},
                                                   {"mlc.experiment", m.experiment},
                                                   {"mlc.config_hash", I.hash},
                                                   {"mlc.epoch", std::to_string(pos.epoch)},
                                                   {"mlc.step", std::to_string(pos.step)}}));
    if (!m.checkpoint.saveLast) {
      I.newest.clear();
      I.previous.clear();
      I.prune();
    }
    I.writeRunFile(runDir_, status, reason, final);
    // The console sink says it when the run has one (track::Console::finish).
    bool console = std::any_of(m.track.sinks.begin(), m.track.sinks.end(),
                               [](const SinkSpec &s) { return s.kind == "console"; });
    if (status == "early_stop" && !console) std::cerr << "stopped early: " << reason << '\n' << std::flush;
  }
  track::Outcome outcome{status, reason, final, (runDir_ / "model.safetensors").string(), I.seconds()};
  I.tracker.finish(outcome);
  I.ended = true;
  std::string event = status == "finished" ? "finish" : status == "early_stop" ? "early_stop" : "failure";
  I.notify(event, I.summary(event, status, reason, final, paths_, runDir_));
}

void Lifecycle::recordTest(const Metrics &metrics) {
  Impl &I = *impl_;
  if (!I.trackerStarted) I.startTracking(paths_, paths_.trackDir);
  I.tracker.metrics(0, 0, metrics);
  Json j = metricsJson(metrics);
  writeFileAtomically(testDir() / "metrics.json", j.dump(2) + "\n");
}

void Lifecycle::endEvaluation(const Metrics &final) {
  Impl &I = *impl_;
  if (I.ended || !I.trackerStarted) return;
  I.tracker.finish({"finished", "", final, runDir_.string(), I.seconds()});
  I.ended = true;
}

void Lifecycle::failed(const std::string &message) {
  Impl &I = *impl_;
  if (I.ended) return;
  I.ended = true;
  if (!runDir_.empty()) {
    try {
      I.writeRunFile(runDir_, "failed", message, I.lastMetrics);
    } catch (const std::exception &) {
      // the failure being reported matters more than this file
    }
  }
  if (I.trackerStarted) I.tracker.finish({"failed", message, I.lastMetrics, "", I.seconds()});
  I.notify("failure", I.summary("failure", "failed", message, I.lastMetrics, paths_, runDir_));
}

void Lifecycle::loadWeights(char *state, const std::string &which) {
  Impl &I = *impl_;
  const Manifest &m = I.m;
  fs::path file;
  std::optional<CheckpointStore::Loaded> loaded;
  auto findRun = [&]() {
    fs::path found;
    for (int k = 1;; ++k) {
      fs::path d = versionDir(paths_.trainDir, k);
      std::error_code ec;
      if (!fs::exists(d, ec)) break;
      Json run = readRunFile(d);
      if (!run.is_null() && run.value("config_hash", "") == I.hash) found = d;
    }
    if (found.empty())
      throw Error(fmt::format("no trained run of this configuration under `{}`: fit it first, or give `--ckpt PATH`",
                              paths_.trainDir.string()));
    return found;
  };
  if (which == "init") {
    // The untrained model: a baseline to compare a trained one with.
    std::cerr << "using the initial weights (seed " << m.seed << ")\n" << std::flush;
    return;
  }
  if (which.empty()) {
    runDir_ = findRun();
    file = runDir_ / "model.safetensors";
    std::error_code ec;
    if (!fs::exists(file, ec))
      throw Error(fmt::format("`{}` has no final model (the run did not finish): resume it with `--resume`, or "
                              "give `--ckpt last`",
                              runDir_.string()));
  } else if (which == "best" || which == "last") {
    runDir_ = findRun();
    CheckpointStore store(runDir_, "epoch=");
    auto newest = store.newestValid({"progress", "step"},
                                    [](const std::string &w) { std::cerr << "warning: " << w << '\n' << std::flush; });
    if (!newest) throw Error(fmt::format("`{}` holds no valid checkpoint", runDir_.string()));
    if (which == "last") {
      loaded = std::move(newest);
    } else {
      Json meta = Json::parse(newest->metaJson);
      const Json &entries = meta.at("top_k").at("entries");
      if (entries.empty())
        throw Error(fmt::format("`{}` ranks no checkpoint (`checkpoint.top_k` is 0 or `{}` was never measured)",
                                runDir_.string(), m.checkpoint.monitor));
      loaded = store.load(entries[0].at("stem").get<std::string>());
    }
  } else {
    fs::path p = which;
    if (p.extension() == ".safetensors" && !fs::exists(fs::path(p).replace_extension(".json"))) {
      file = p;
    } else {
      loaded = CheckpointStore::loadPath(p);
      file = p.extension() == ".json" || p.extension() == ".safetensors" ? fs::path(p).replace_extension(".safetensors")
                                                                          : fs::path(p.string() + ".safetensors");
    }
  }
  // A checkpoint given by path is named as given; one of this run by its directory.
  if (loaded && !runDir_.empty()) file = runDir_ / (loaded->stem + ".safetensors");
  SafetensorsFile tensors = loaded ? std::move(loaded->tensors) : decodeSafetensors(readFile(file), file.string());
  std::string from = file.string();
  for (const StateSpec &s : m.state) {
    if (s.role != "param") continue;
    const SafetensorsFile::Tensor *t = tensors.find(s.name);
    if (!t) throw Error(fmt::format("`{}` has no tensor `{}`", from, s.name));
    if (t->dtype != "F32" || t->shape != s.shape) {
      std::string shape;
      for (int64_t d : s.shape) shape += (shape.empty() ? "" : ", ") + std::to_string(d);
      throw Error(fmt::format("`{}`: tensor `{}` is not F32 [{}] as this experiment needs", from, s.name, shape));
    }
    std::memcpy(state + s.offset, tensors.data(*t), size_t(s.elements()) * 4);
  }
  std::cerr << "loaded " << file.string() << '\n' << std::flush;
}

std::string planText(const Manifest &m, const Options &options, int64_t trainSamples) {
  int64_t params = 0;
  for (const StateSpec &s : m.state)
    if (s.role == "param") params += s.elements();
  int64_t ioBytes = 0;
  for (const IoSpec &io : m.io) ioBytes += io.perSampleElements() * (io.dtype == "i64" ? 8 : 4) * (io.batched() ? m.batch : 1);
  int64_t scratch = m.scratchFixedBytes + m.scratchPerSampleBytes * m.batch;
  double flopsPerStep = (m.trainFlopsPerSample * double(m.batch) + m.trainFlopsPerStep) * double(m.accumulate) +
                        m.applyFlopsPerStep;
  RunPaths paths = runPaths(m, options.root, "fit");
  std::string out;
  out += fmt::format("experiment: {} (model {}, data {})\n", m.experiment, m.model, m.dataName);
  out += fmt::format("parameters: {}\n", params);
  out += fmt::format("flops per step: {:.4g} (batch {}{})\n", flopsPerStep, m.batch,
                     m.accumulate > 1 ? fmt::format(" x {} accumulated", m.accumulate) : "");
  if (trainSamples >= 0) {
    int64_t steps = (trainSamples + m.batch * m.accumulate - 1) / (m.batch * m.accumulate);
    out += fmt::format("steps: {} per epoch, {} in {} epochs\n", steps, steps * m.epochs, m.epochs);
  }
  out += fmt::format("memory: {} bytes (state {}, scratch {}, io {})\n", m.stateBytes + scratch + ioBytes,
                     m.stateBytes, scratch, ioBytes);
  out += "device: cpu (1 rank)\n";
  out += fmt::format("project: {}\nrun: {}\n", paths.project, paths.run);
  out += fmt::format("checkpoints: {}\n", paths.trainDir.string());
  out += fmt::format("test outputs: {}\n", paths.testDir.string());
  out += fmt::format("tracking: {}\n", paths.trackDir.parent_path().string());
  for (const SinkSpec &s : m.track.sinks)
    if (s.kind == "mlflow") out += fmt::format("mlflow store: {}\n", paths.mlflowRoot.string());
  return out;
}

}  // namespace mlcrt
