#include "src/Lifecycle.h"

#include "abi/plan.h"
#include "src/CheckpointStore.h"
#include "src/FileIO.h"
#include "src/Notify.h"
#include "src/track/Sink.h"
#include "src/tune/TrialChannel.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
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
// checkpoint. The handler is installed with SA_RESETHAND, so a second
// signal kills.
volatile std::sig_atomic_t gSignal = 0;

extern "C" void onStopSignal(int sig) { gSignal = sig; }

std::string signalReason() { return fmt::format("stopped by {}", gSignal == SIGINT ? "SIGINT" : "SIGTERM"); }

// Texts from the command line or a data file may hold bytes that are not
// UTF-8; a record of the run must still be written.
std::string dumpJson(const Json &j, int indent = -1) {
  return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

std::string newRunId() {
  uint64_t a = mlc_mix64(uint64_t(track::unixMillis()) ^ (uint64_t(::getpid()) << 32));
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

// The versions of a run directory: `dir`, `dir.2`, ... up to the first
// that does not exist. A run continues in the newest one holding its
// configuration; a new run takes the first free one, so no earlier run's
// checkpoints are ever overwritten.
struct RunVersions {
  int matching = 0;  // the newest version of this configuration, 0 if none
  Json matchingRun;  // its run.json
  Json newestOther;  // run.json of the newest version of another configuration
  int fresh = 1;     // the first free version
};

RunVersions scanRuns(const fs::path &base, const std::string &hash) {
  RunVersions v;
  for (int k = 1;; ++k) {
    std::error_code ec;
    if (!fs::exists(versionDir(base, k), ec)) {
      v.fresh = k;
      return v;
    }
    Json run = readRunFile(versionDir(base, k));
    if (run.is_null()) continue;
    if (run.value("config_hash", "") == hash) {
      v.matching = k;
      v.matchingRun = std::move(run);
    } else {
      v.newestOther = std::move(run);
    }
  }
}

std::string stemOf(const TrainPosition &pos) { return fmt::format("epoch={}-step={}", pos.epoch, pos.step); }

// Copies the tensors this experiment's state holds (its parameters only,
// or everything) out of `file`, checking each name, dtype and shape.
void copyIn(const SafetensorsFile &file, const std::string &from, const Manifest &m, char *state, bool paramsOnly) {
  for (const StateSpec &s : m.state) {
    if (paramsOnly && s.role != "param") continue;
    const SafetensorsFile::Tensor *t = file.find(s.name);
    if (!t) throw Error(fmt::format("`{}` has no tensor `{}`", from, s.name));
    if (t->dtype != "F32" || t->shape != s.shape) {
      std::string shape;
      for (int64_t d : s.shape) shape += (shape.empty() ? "" : ", ") + std::to_string(d);
      throw Error(fmt::format("`{}`: tensor `{}` is not F32 [{}] as this experiment needs", from, s.name, shape));
    }
    std::memcpy(state + s.offset, file.data(*t), size_t(s.elements()) * 4);
  }
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
  RunPaths paths;
  std::string hash, runId;
  int version = 0;          // of the run directory; 0 until one is chosen
  bool ownsRunDir = false;  // fit chose it: its run.json is this process's to write
  track::Tracker tracker;
  bool trackerStarted = false, ended = false;
  EarlyStopping early;
  std::unique_ptr<CheckpointStore> store;
  std::vector<TopK> topK;
  std::string newest, previous;  // the two newest checkpoints: resume and its fallback
  int64_t totalSteps = 0, batchesPerEpoch = 0, resumeStep = 0;
  double lastCheckpointSeconds = 0, trainSecondsBefore = 0, trainSeconds = 0;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  Metrics lastMetrics;
  bool resumed = false;
  std::string status = "finished", reason;  // how the fit ended (endFit)
  fs::path weights;                          // the model file written or loaded, once there is one
  struct sigaction oldInt {}, oldTerm {};
  bool handlers = false;
  std::optional<tune::TrialChannel> channel;  // a tuner's trial: where its objective goes
  bool pruned = false;

  static EarlyStopSpec earlySpec(const Manifest &m) {
    if (m.earlyStop) return *m.earlyStop;
    EarlyStopSpec spec;  // without a block only the NaN check is on
    spec.monitor.clear();
    return spec;
  }

  Impl(const Manifest &m, const Options &o, std::string mode)
      : m(m), o(o), mode(std::move(mode)), paths(runPaths(m, o.root, this->mode)), hash(configHash(m)),
        early(earlySpec(m)) {
    if (const TrialRun *t = o.trial) {
      // A trial keeps its checkpoints under its study, and its tracked run
      // (named from its parameters) goes with the study's other trials.
      paths.trainDir = t->dir;
      paths.testDir = t->dir / "test";
      paths.run = fmt::format("{}-trial{}", paths.run, t->number);
      paths.trackDir = fs::path(o.root) / m.track.dir / paths.project / t->study / paths.run / this->mode;
      if (t->channel >= 0) channel.emplace(t->channel);
    }
  }

  // How much of its budget a trial has used, in the pruner's unit.
  int64_t budget(const TrainPosition &pos) const { return o.trial->unit == "steps" ? pos.step : pos.epoch; }

  // A trial reports its objective after each validation; the tuner may
  // prune it there.
  bool reportToTuner(const TrainPosition &pos, const Metrics &metrics) {
    if (!channel) return true;
    for (const auto &[k, v] : metrics)
      if (k == o.trial->objective) return channel->report(budget(pos), v);
    return true;
  }

  fs::path runDir() const { return version ? versionDir(paths.trainDir, version) : fs::path(); }

  // Training time for a fit (across resumes), wall time otherwise.
  double seconds() const {
    if (trainSeconds > 0) return trainSeconds;
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  std::vector<TensorView> stateTensors(const char *state, bool paramsOnly = false) const {
    std::vector<TensorView> out;
    for (const StateSpec &s : m.state)
      if (!paramsOnly || s.role == "param")
        out.push_back({s.name, "F32", s.shape, state + s.offset, size_t(s.elements()) * 4});
    return out;
  }

  void startTracking() {
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
    info.startMs = track::unixMillis();
    for (const ConfigEntry &e : m.config) info.config.emplace_back(e.key, e.text);
    info.runDir = paths.trackDir;
    info.mlflowRoot = paths.mlflowRoot;
    info.resumed = resumed;
    info.resumeStep = resumeStep;
    info.totalSteps = totalSteps;
    info.epochs = m.epochs;
    tracker.start(info);
    trackerStarted = true;
  }

  bool listens(const std::string &event) const {
    return std::any_of(m.track.notify.begin(), m.track.notify.end(), [&](const NotifySpec &n) {
      return std::find(n.events.begin(), n.events.end(), event) != n.events.end();
    });
  }

  // Builds the summary only when a notifier listens for `event`.
  void notify(const std::string &event, const std::string &runStatus, const std::string &why,
              const Metrics &metrics) const {
    // A study's trials are its own business: forty of them must not send
    // forty notifications.
    if (!listens(event) || o.trial) return;
    Json j;
    j["event"] = event;
    j["experiment"] = m.experiment;
    j["project"] = paths.project;
    j["run"] = paths.run;
    j["mode"] = mode;
    j["status"] = runStatus;
    if (!why.empty()) j["reason"] = why;
    if (!topK.empty()) {
      j["best"] = {{"metric", m.checkpoint.monitor}, {"value", topK[0].value}, {"epoch", topK[0].epoch},
                   {"checkpoint", store->tensorsPath(topK[0].stem).string()}};
    } else if (early.state().hasBest) {
      j["best"] = {{"metric", early.spec().monitor}, {"value", early.state().best}, {"epoch", early.state().bestEpoch}};
    }
    j["metrics"] = metricsJson(metrics);
    j["seconds"] = seconds();
    if (!weights.empty()) j["model"] = weights.string();
    std::string summary = dumpJson(j);
    for (const NotifySpec &n : m.track.notify) mlcrt::notify(n, event, summary);
  }

  void writeRunFile(const std::string &runStatus, const std::string &why, const Metrics &final) {
    Json j;
    j["run_id"] = runId;
    j["experiment"] = m.experiment;
    j["config_hash"] = hash;
    j["mlc_version"] = MLCRT_VERSION;
    j["status"] = runStatus;
    if (!why.empty()) j["reason"] = why;
    // Only a run that trained to its end is finished: a killed or failed
    // one is resumed from its checkpoints.
    j["finished"] = runStatus == "finished" || runStatus == "early_stop" || runStatus == "pruned";
    if (!final.empty()) j["metrics"] = metricsJson(final);
    j["config"] = configJson(m);
    writeFileAtomically(runDir() / "run.json", dumpJson(j, 2) + "\n");
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
    std::string stem = stemOf(pos);
    store->write(stem, stateTensors(state), dumpJson(checkpointMeta(pos, finished)),
                 {{"format", "pt"}, {"mlc.experiment", m.experiment}});
    if (stem != newest) {
      std::string dropped = previous;
      previous = newest;
      newest = stem;
      drop(dropped);
    }
    lastCheckpointSeconds = pos.trainSeconds;
  }

  bool kept(const std::string &stem) const {
    return stem == newest || stem == previous ||
           std::any_of(topK.begin(), topK.end(), [&](const TopK &t) { return t.stem == stem; });
  }

  // The top-k and the two newest are kept (the newest may be torn by a
  // crash in the middle of a later write; the one before is the fallback).
  void drop(const std::string &stem) const {
    if (!stem.empty() && !kept(stem)) store->remove(stem);
  }

  // Every checkpoint in the directory that is not kept, when save_last is
  // off. (A corrupt one an earlier process left stays for inspection.)
  void prune() const {
    for (const std::string &stem : store->list({"progress", "step"})) drop(stem);
  }

  // Returns whether the checkpoint marks the end of its run.
  bool restore(const CheckpointStore::Loaded &c, char *state, TrainPosition &pos) {
    copyIn(c.tensors, store->tensorsPath(c.stem).string(), m, state, false);
    Json j = Json::parse(c.metaJson);
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
    newest = c.stem;
    resumeStep = pos.step;
    trainSecondsBefore = trainSeconds = lastCheckpointSeconds = pos.trainSeconds;
    resumed = true;
    return p.value("finished", false);
  }

  void installHandlers() {
    struct sigaction sa {};
    sa.sa_handler = onStopSignal;
    sa.sa_flags = SA_RESETHAND;
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
    : impl_(std::make_unique<Impl>(m, options, mode)) {}

Lifecycle::~Lifecycle() = default;

bool Lifecycle::pruned() const { return impl_->pruned; }

int Lifecycle::signalStatus() const { return gSignal ? 128 + int(gSignal) : 0; }

fs::path Lifecycle::runDir() const { return impl_->runDir(); }

// The test outputs of version `.k` of a run sit in version `.k` of test/.
fs::path Lifecycle::testDir() const { return versionDir(impl_->paths.testDir, std::max(1, impl_->version)); }

bool Lifecycle::beginFit(char *state, TrainPosition &pos, int64_t totalSteps, int64_t batchesPerEpoch, Metrics &final) {
  Impl &I = *impl_;
  const Manifest &m = I.m;
  I.totalSteps = totalSteps;
  I.batchesPerEpoch = batchesPerEpoch;
  bool wantResume = I.o.resume || m.checkpoint.resume != "never";
  bool mustResume = I.o.resume || m.checkpoint.resume == "must";
  RunVersions runs = scanRuns(I.paths.trainDir, I.hash);
  bool resumeHere = wantResume && runs.matching;
  if (mustResume && !resumeHere) {
    std::string why =
        fmt::format("nothing to resume: no run of this configuration under `{}`", I.paths.trainDir.string());
    if (runs.newestOther.is_object() && runs.newestOther.contains("config")) {
      std::vector<std::pair<std::string, std::string>> recorded;
      for (auto it = runs.newestOther["config"].begin(); it != runs.newestOther["config"].end(); ++it)
        recorded.emplace_back(it.key(), it.value().is_string() ? it.value().get<std::string>() : it.value().dump());
      std::vector<std::string> diff = configDifferences(m, recorded);
      if (!diff.empty()) {
        why += "; the run there differs in";
        for (size_t i = 0; i < diff.size() && i < 5; ++i) why += (i ? ", " : " ") + diff[i];
      }
    }
    throw Error(why);
  }
  bool runFinished = resumeHere && runs.matchingRun.value("finished", false);
  if (runFinished && !I.o.resume) resumeHere = runFinished = false;  // auto: a new run beside the finished one
  I.version = resumeHere ? runs.matching : runs.fresh;
  I.ownsRunDir = true;
  I.store = std::make_unique<CheckpointStore>(I.runDir(), "epoch=");
  I.runId = resumeHere ? runs.matchingRun.value("run_id", newRunId()) : newRunId();
  bool finished = false;
  if (resumeHere) {
    auto loaded = I.store->newestValid({"progress", "step"}, [](const std::string &w) {
      std::cerr << "warning: " << w << '\n' << std::flush;
    });
    if (loaded) {
      finished = I.restore(*loaded, state, pos) || runFinished;
      final = I.lastMetrics;
      // The checkpoint loaded may be older than the run's end (the newest
      // was corrupt, or save_last is off): the run's last metrics are the
      // ones run.json recorded when it finished.
      if (runFinished && runs.matchingRun.contains("metrics")) final = metricsFrom(runs.matchingRun["metrics"]);
      std::cerr << fmt::format("{} `{}` (epoch {}, step {})\n", finished ? "already finished:" : "resuming from",
                               I.store->tensorsPath(loaded->stem).string(), pos.epoch, pos.step)
                << std::flush;
    } else if (mustResume) {
      throw Error(fmt::format("nothing to resume: `{}` holds no valid checkpoint", I.runDir().string()));
    }
  }
  if (finished) {
    // Nothing runs: no tracking, no notification and no run.json to
    // rewrite; the test that follows uses these weights.
    I.weights = I.runDir() / "model.safetensors";
    I.ended = true;  // its end was reported when it happened
    if (I.channel) I.channel->complete(I.budget(pos));
    return true;
  }
  I.writeRunFile("running", "", {});
  I.installHandlers();
  I.startTracking();
  if (!I.resumed) I.notify("start", "running", "", {});
  return false;
}

std::string Lifecycle::afterStep(const char *state, const TrainPosition &pos, double loss, int64_t samples) {
  Impl &I = *impl_;
  I.trainSeconds = pos.trainSeconds;
  double elapsed = pos.trainSeconds - I.trainSecondsBefore;
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
    return signalReason();
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
  I.trainSeconds = pos.trainSeconds;
  I.lastMetrics = metrics;
  I.tracker.metrics(pos.step, pos.epoch, metrics);
  std::optional<std::string> stop = I.early.update(pos.epoch, metrics);
  // The run's last state is endFit's to write.
  bool write = m.checkpoint.every.unit == "epoch" && pos.epoch % int64_t(m.checkpoint.every.n) == 0;
  const double *value = nullptr;
  for (const auto &[k, v] : metrics)
    if (k == m.checkpoint.monitor) value = &v;
  bool newBest = false;
  std::string evicted;
  if (value && std::isfinite(*value) && m.checkpoint.topK > 0) {
    auto better = [&](const TopK &a, const TopK &b) { return improves(m.checkpoint.mode, a.value, b.value); };
    if (int64_t(I.topK.size()) < m.checkpoint.topK || improves(m.checkpoint.mode, *value, I.topK.back().value)) {
      newBest = I.topK.empty() || improves(m.checkpoint.mode, *value, I.topK.front().value);
      I.topK.push_back({*value, pos.epoch, pos.step, stemOf(pos)});
      std::stable_sort(I.topK.begin(), I.topK.end(), better);
      if (int64_t(I.topK.size()) > m.checkpoint.topK) {
        evicted = I.topK.back().stem;
        I.topK.pop_back();
      }
      write = true;
    }
  }
  // A signal during the epoch's validation stops the run here: what resumes
  // it is this checkpoint, whatever the interval.
  if (write || gSignal) I.writeCheckpoint(state, pos);
  I.drop(evicted);
  I.notify("epoch", "running", "", metrics);
  if (newBest) I.notify("best", "running", "", metrics);
  if (gSignal) return signalReason();
  if (!I.reportToTuner(pos, metrics)) {
    I.pruned = true;
    return fmt::format("pruned by the tuner after {} {}", I.budget(pos),
                       I.o.trial->unit);
  }
  return stop.value_or("");
}

void Lifecycle::endFit(const char *state, const TrainPosition &pos, const Metrics &final, const std::string &status,
                       const std::string &reason) {
  Impl &I = *impl_;
  const Manifest &m = I.m;
  I.trainSeconds = pos.trainSeconds;
  I.status = status;
  I.reason = reason;
  if (status == "killed") {
    // Interrupted: the checkpoint written at the stop is what resumes it.
    I.weights = I.store->tensorsPath(I.newest);
    I.writeRunFile("killed", reason, final);
    return;
  }
  if (status == "pruned") {
    // A pruned trial is never resumed, refitted or tested: its run file
    // says how far it got, and no more writing slows the study down.
    I.writeRunFile(status, reason, final);
    return;
  }
  if (m.checkpoint.saveLast) I.writeCheckpoint(state, pos, true);
  // No time or host in the file: the same training gives the same bytes.
  I.weights = I.runDir() / "model.safetensors";
  writeFileAtomically(I.weights, encodeSafetensors(I.stateTensors(state, true),
                                                   {{"format", "pt"},
                                                    {"mlc.experiment", m.experiment},
                                                    {"mlc.config_hash", I.hash},
                                                    {"mlc.epoch", std::to_string(pos.epoch)},
                                                    {"mlc.step", std::to_string(pos.step)}}));
  if (!m.checkpoint.saveLast) {
    I.newest.clear();
    I.previous.clear();
    I.prune();
  }
  I.writeRunFile(status, reason, final);
  if (I.channel && status != "pruned") I.channel->complete(I.budget(pos));
  // The console sink says it when the run has one (track::Console::finish).
  bool console = std::any_of(m.track.sinks.begin(), m.track.sinks.end(),
                             [](const SinkSpec &s) { return s.kind == "console"; });
  if (status == "early_stop" && !console) std::cerr << "stopped early: " << reason << '\n' << std::flush;
}

void Lifecycle::recordTest(const Metrics &metrics) {
  Impl &I = *impl_;
  if (I.mode != "fit") I.startTracking();  // a fit's tracking started with it
  I.tracker.metrics(0, 0, metrics);
  writeFileAtomically(testDir() / "metrics.json", dumpJson(metricsJson(metrics), 2) + "\n");
}

void Lifecycle::close(const Metrics &final) {
  Impl &I = *impl_;
  if (I.ended) return;
  I.ended = true;
  if (I.trackerStarted) I.tracker.finish({I.status, I.reason, final, I.weights.string(), I.seconds()});
  if (I.mode != "fit") return;
  std::string event = I.status == "finished" ? "finish" : I.status == "early_stop" ? "early_stop" : "failure";
  I.notify(event, I.status, I.reason, final);
}

void Lifecycle::failed(const std::string &message) {
  Impl &I = *impl_;
  if (I.ended) return;
  I.ended = true;
  if (I.ownsRunDir) {
    try {
      I.writeRunFile("failed", message, I.lastMetrics);
    } catch (const std::exception &) {
      // the failure being reported matters more than this file
    }
  }
  if (I.trackerStarted) I.tracker.finish({"failed", message, I.lastMetrics, "", I.seconds()});
  I.notify("failure", "failed", message, I.lastMetrics);
}

void Lifecycle::loadWeights(char *state, const std::string &which) {
  Impl &I = *impl_;
  const Manifest &m = I.m;
  if (which == "init") {
    // The untrained model: a baseline to compare a trained one with.
    std::cerr << "using the initial weights (seed " << m.seed << ")\n" << std::flush;
    return;
  }
  auto findRun = [&] {
    RunVersions runs = scanRuns(I.paths.trainDir, I.hash);
    if (!runs.matching)
      throw Error(fmt::format("no trained run of this configuration under `{}`: fit it first, or give `--ckpt PATH`",
                              I.paths.trainDir.string()));
    I.version = runs.matching;
  };
  fs::path file;
  std::optional<CheckpointStore::Loaded> loaded;
  if (which.empty()) {
    findRun();
    file = I.runDir() / "model.safetensors";
    std::error_code ec;
    if (!fs::exists(file, ec))
      throw Error(fmt::format("`{}` has no final model (the run did not finish): resume it with `--resume`, or "
                              "give `--ckpt last`",
                              I.runDir().string()));
  } else if (which == "best" || which == "last") {
    findRun();
    CheckpointStore store(I.runDir(), "epoch=");
    auto newest = store.newestValid({"progress", "step"},
                                    [](const std::string &w) { std::cerr << "warning: " << w << '\n' << std::flush; });
    if (!newest) throw Error(fmt::format("`{}` holds no valid checkpoint", I.runDir().string()));
    if (which == "last") {
      loaded = std::move(newest);
    } else {
      Json meta = Json::parse(newest->metaJson);
      const Json &entries = meta.at("top_k").at("entries");
      if (entries.empty())
        throw Error(fmt::format("`{}` ranks no checkpoint (`checkpoint.top_k` is 0 or `{}` was never measured)",
                                I.runDir().string(), m.checkpoint.monitor));
      loaded = store.load(entries[0].at("stem").get<std::string>());
    }
    file = store.tensorsPath(loaded->stem);
  } else {
    // A checkpoint given by path is named as given.
    fs::path p = which;
    if (p.extension() == ".safetensors" && !fs::exists(fs::path(p).replace_extension(".json"))) {
      file = p;
    } else {
      loaded = CheckpointStore::loadPath(p);
      file = p.extension() == ".json" || p.extension() == ".safetensors" ? fs::path(p).replace_extension(".safetensors")
                                                                          : fs::path(p.string() + ".safetensors");
    }
  }
  copyIn(loaded ? loaded->tensors : decodeSafetensors(readFile(file), file.string()), file.string(), m, state, true);
  I.weights = file;
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
    int64_t steps = m.stepsPerEpoch(trainSamples);
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
