#include "src/tune/Tuner.h"

#include "src/FileIO.h"
#include "src/Loop.h"
#include "src/tune/Ensemble.h"
#include "src/tune/Report.h"
#include "src/tune/Storage.h"
#include "src/tune/SweepSpec.h"
#include "src/tune/TrialChannel.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <iostream>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace mlcrt::tune {

namespace fs = std::filesystem;

std::string countsLine(const Study &s);

namespace {

using Clock = std::chrono::steady_clock;

// A running trial's process, as the tuner sees it.
struct Child {
  pid_t pid = -1;
  int fd = -1;  // the tuner's end of the trial's socket
  int number = 0;
  int attempts = 0;
  std::string buffer;  // a message not ended yet
  bool complete = false, pruned = false;
  double prunedValue = NAN;
  std::vector<int64_t> rungsSeen;  // asha, hyperband: rungs it was compared at
  fs::path log;
};

volatile sig_atomic_t gStop = 0;
extern "C" void onTuneSignal(int sig) { gStop = sig; }

std::string hostName() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || !*host) return "localhost";
  return host;
}

fs::path studyDir(const Options &o, const SweepSpec &spec) { return fs::path(o.root) / "tune" / spec.study; }
fs::path trialDir(const Options &o, const SweepSpec &spec, int n) {
  return studyDir(o, spec) / fmt::format("trial-{:04d}", n);
}

SweepSpec loadSpec(const Manifest &base, const Options &options) {
  std::optional<SweepSpec> spec = parseSweep(base.sweepJson);
  if (!spec) throw Error("this experiment has no sweep");
  configureSweep(*spec, base, options);
  return *spec;
}

StudyInfo studyInfo(const SweepSpec &spec) {
  return {spec.study, spec.objective, spec.minimize, spec.space, fingerprint(spec)};
}

// Parameter values by path, as overrides write them; inactive ones absent.
std::map<std::string, std::string> paramTexts(const Space &space, const Params &params) {
  std::map<std::string, std::string> out;
  for (size_t i = 0; i < space.dims.size() && i < params.size(); ++i)
    if (params[i] && space.active(params, i)) out[space.dims[i].path] = space.dims[i].text(*params[i]);
  return out;
}

// For people: floats to 6 significant digits (the trial runs with them exact).
std::string paramsLine(const Space &space, const Params &params) {
  std::string out;
  for (size_t i = 0; i < space.dims.size() && i < params.size(); ++i) {
    if (!params[i] || !space.active(params, i)) continue;
    const Dim &d = space.dims[i];
    std::string text = d.kind == Dim::Uniform || d.kind == Dim::LogUniform ? fmt::format("{:.6g}", *params[i]) : d.text(*params[i]);
    out += (out.empty() ? "" : " ") + d.path + "=" + text;
  }
  return out;
}

std::string valueText(double v) { return fmt::format("{:.6g}", v); }

// The last lines of a trial's log: why it failed, for the study table.
std::string logTail(const fs::path &log, size_t lines = 12) {
  std::optional<std::string> text = readFileIfExists(log);
  if (!text) return "";
  std::string t = *text;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  size_t at = t.size();
  for (size_t n = 0; n < lines && at != std::string::npos && at > 0; ++n) at = t.rfind('\n', at - 1);
  return printable(at == std::string::npos ? t : t.substr(at + 1));
}

// A run of `params`: the variant compiled for their compiled values, and
// the options with them as overrides (they win over the same keys given on
// the command line). Returns the variant's index; `m` is its manifest.
size_t runWith(const mlc_plan &plan, const SweepSpec &spec, const Params &params, Manifest &m, Options &o) {
  std::map<std::string, std::string> values = paramTexts(spec.space, params), compiled;
  for (const Dim &d : spec.space.dims)
    if (d.structural && values.count(d.path)) compiled[d.path] = values[d.path];
  int variant = findVariant(spec, compiled);
  if (variant < 0 || size_t(variant) >= plan.variant_count) throw Error("no compiled variant has these values");
  m = parseManifest(plan.variants[variant].manifest_json);
  o.resume = false;
  o.overrides.erase(std::remove_if(o.overrides.begin(), o.overrides.end(),
                                   [&](const Override &ov) { return values.count(ov.key) || ov.variant; }),
                    o.overrides.end());
  for (const auto &[path, text] : values) {
    Override ov = parseOverride(m, path, text);
    if (!ov.variant) o.overrides.push_back(ov);
  }
  return size_t(variant);
}

// A forked child's stdout and stderr go to `log` (appended to, or
// truncated with `how` = O_TRUNC).
void redirectOutput(const fs::path &log, int how) {
  int out = ::open(log.c_str(), O_WRONLY | O_CREAT | how | O_CLOEXEC, 0644);
  if (out < 0) return;
  ::dup2(out, STDOUT_FILENO);
  ::dup2(out, STDERR_FILENO);
  ::close(out);
}

// The rest of a forked process's life: `body`'s exit status, or 2 for a
// usage error and 1 for any other failure, each named on one line. It ends
// with its tuner, which is the only one it could report to.
[[noreturn]] void childProcess(const std::function<int()> &body) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  int status = 1;
  try {
    status = body();
  } catch (const UsageError &e) {
    std::cerr << "error: " << printable(e.what()) << '\n';
    status = 2;
  } catch (const std::exception &e) {
    std::cerr << "error: " << printable(e.what()) << '\n';
  }
  std::cout.flush();
  std::cerr.flush();
  _exit(status);
}

// The trial's whole life in its forked process: it becomes an ordinary fit
// of its variant with its parameters as overrides, and never returns.
[[noreturn]] void trialProcess(const mlc_plan &plan, const Options &base, const SweepSpec &spec, const Claim &claim,
                               const Params &params, int fd, const fs::path &log, const std::vector<int> &closeFds,
                               const Splits &data, Clock::time_point started) {
  for (int other : closeFds) ::close(other);
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  redirectOutput(log, O_APPEND);
  childProcess([&] {
    Manifest m;
    Options o = base;
    size_t variant = runWith(plan, spec, params, m, o);
    o.mode = Mode::Fit;
    o.plan = o.dryRun = o.bench = false;
    if (!o.threadsGiven) o.threads = std::max<int>(1, o.threads / int(std::max<int64_t>(1, spec.parallel)));
    TrialRun trial;
    trial.number = claim.number;
    trial.study = spec.study;
    trial.dir = trialDir(base, spec, claim.number);
    trial.channel = fd;
    trial.objective = spec.objective;
    trial.minimize = spec.minimize;
    trial.unit = spec.unit;
    trial.started = started;
    o.trial = &trial;
    std::cerr << fmt::format("== trial {} attempt {}: {}\n", claim.number, claim.attempts, paramsLine(spec.space, params))
              << std::flush;
    for (const std::string &w : applyOverrides(m, o)) std::cerr << "warning: " << w << '\n';
    m.setConfig("trial", std::to_string(claim.number));  // `{trial}` in name templates
    return runExperiment(plan.variants[variant], m, o, data);
  });
}

class Tuner {
public:
  Tuner(const mlc_plan &plan, const Manifest &base, const Options &options, const Splits &data)
      : plan_(plan), base_(base), o_(options), data_(data), spec_(loadSpec(base, options)),
        worker_(fmt::format("{}:{}", hostName(), getpid())) {
    // Budgets in steps up to the whole run: its optimizer updates.
    if (!spec_.maxGiven && spec_.unit == "steps") spec_.prune.maxBudget = std::max<int64_t>(1, base.epochs * stepsPerEpoch());
  }

  int run() {
    warnIfPruningInWarmup();
    storage_ = openStorage(spec_.storage);
    bool existed = storage_->open(studyInfo(spec_));
    fs::create_directories(studyDir(o_, spec_));
    for (int n : storage_->recoverOrphans(hostName(), kStaleSeconds))
      say(fmt::format("trial {} goes back to the queue: its worker stopped", n));
    Study s = storage_->snapshot();
    say(fmt::format("study `{}` ({}): {}{} trials, {} at a time, {} search, {} pruning", spec_.study,
                    storage_->describe(), existed ? fmt::format("{} of ", done(s)) : "", spec_.trials, spec_.parallel,
                    spec_.search.kind, spec_.prune.kind));
    installHandlers();
    loop();
    restoreHandlers();
    if (gStop) {
      say(fmt::format("stopped by signal {}; continue the study with `--resume`", int(gStop)));
      return 128 + int(gStop);
    }
    s = storage_->snapshot();
    say(fmt::format("trials: {}", countsLine(s)));
    return s.best() ? 0 : 1;
  }

  Storage &storage() { return *storage_; }
  const SweepSpec &spec() const { return spec_; }

private:
  static constexpr double kStaleSeconds = 120;

  static int done(const Study &s) {
    int n = 0;
    for (const Trial &t : s.trials) n += t.state == TrialState::Complete || t.state == TrialState::Pruned || t.state == TrialState::Failed;
    return n;
  }

  void say(const std::string &line) const { std::cerr << "tune: " << line << '\n' << std::flush; }

  int64_t stepsPerEpoch() const { return std::max<int64_t>(1, base_.stepsPerEpoch(data_.train.size())); }

  // While the schedule warms up, a trial has not yet trained at its own
  // learning rate, and its loss mostly says how far the ramp has got: a
  // pruner judging there keeps the fast starters and drops the slow ones
  // whatever their final loss. The steps per epoch are known only here, from
  // the loaded data.
  void warnIfPruningInWarmup() const {
    const PruneSpec &p = spec_.prune;
    int64_t first = p.kind == "asha" || p.kind == "hyperband" ? p.grace : p.kind == "median" ? std::max<int64_t>(1, p.warmup) : 0;
    auto entry = std::find_if(base_.hparams.begin(), base_.hparams.end(),
                              [](const HParamSpec &h) { return h.key == "schedule.warmup.steps"; });
    if (first <= 0 || entry == base_.hparams.end()) return;
    int64_t warmup = int64_t(entry->value), perUnit = spec_.unit == "steps" ? 1 : stepsPerEpoch();
    if (first * perUnit >= warmup) return;
    int64_t past = (warmup + perUnit - 1) / perUnit;
    std::string where = spec_.unit == "steps" ? fmt::format("step {}", first)
                                              : fmt::format("epoch {}, step {}", first, first * perUnit);
    std::cerr << fmt::format("warning: `{}` judges trials first at {}, inside the schedule's warmup ({} steps): slow starters are "
                             "pruned before they train at their own learning rate; `{} = {}` is the first {} past it\n",
                             p.kind, where, warmup, p.kind == "median" ? "warmup" : "grace", past,
                             spec_.unit == "steps" ? "step" : "epoch");
  }

  void installHandlers() {
    gStop = 0;
    struct sigaction sa {};
    sa.sa_handler = onTuneSignal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &oldInt_);
    sigaction(SIGTERM, &sa, &oldTerm_);
  }
  void restoreHandlers() {
    sigaction(SIGINT, &oldInt_, nullptr);
    sigaction(SIGTERM, &oldTerm_, nullptr);
  }

  void loop() {
    auto lastBeat = Clock::now();
    for (;;) {
      while (!gStop && children_.size() < size_t(spec_.parallel) && startNext()) {
      }
      if (children_.empty()) return;
      std::vector<pollfd> fds;
      for (const Child &c : children_) fds.push_back({c.fd, POLLIN, 0});
      int ready = ::poll(fds.data(), fds.size(), 200);
      if (ready < 0 && errno != EINTR) throw Error(fmt::format("poll: {}", std::strerror(errno)));
      for (size_t i = 0; ready > 0 && i < fds.size(); ++i)
        if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) readFrom(children_[i]);
      reap();
      if (gStop) stopChildren();
      if (Clock::now() - lastBeat > std::chrono::seconds(10)) {
        storage_->heartbeat(worker_);
        lastBeat = Clock::now();
      }
    }
  }

  // Claims the next trial and starts its process; false when none is left.
  bool startNext() {
    std::optional<Claim> claim = storage_->claim(int(spec_.trials), worker_);
    if (!claim) return false;
    Params params = claim->params;
    if (claim->fresh) {
      // Only TPE looks at the other trials; grid and random need the space.
      Study history;
      if (spec_.search.kind == "tpe") history = storage_->snapshot();
      else history.space = spec_.space;
      params = sample(spec_.search, history, claim->number);
      storage_->setParams(claim->number, params);
    }
    fs::path log = studyDir(o_, spec_) / fmt::format("trial-{:04d}.log", claim->number);
    storage_->setRun(claim->number, fmt::format("trial-{:04d}", claim->number), log.string());
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
      throw Error(fmt::format("socketpair: {}", std::strerror(errno)));
    std::vector<int> closeFds = {pair[0]};
    for (const Child &c : children_) closeFds.push_back(c.fd);
    std::cout.flush();
    std::cerr.flush();
    Clock::time_point started = Clock::now();
    pid_t pid = ::fork();
    if (pid < 0) throw Error(fmt::format("fork: {}", std::strerror(errno)));
    if (pid == 0) trialProcess(plan_, o_, spec_, *claim, params, pair[1], log, closeFds, data_, started);
    ::close(pair[1]);
    Child c;
    c.pid = pid;
    c.fd = pair[0];
    c.number = claim->number;
    c.attempts = claim->attempts;
    c.log = log;
    children_.push_back(std::move(c));
    say(fmt::format("trial {} started{}: {}", claim->number,
                    claim->attempts > 1 ? fmt::format(" (attempt {})", claim->attempts) : "",
                    paramsLine(spec_.space, params)));
    return true;
  }

  // Reads what the trial wrote and answers its reports. False at its end
  // (reap() sees the exit).
  bool readFrom(Child &c) {
    char buf[4096];
    ssize_t n = ::read(c.fd, buf, sizeof buf);
    if (n <= 0) return false;
    c.buffer.append(buf, size_t(n));
    for (size_t nl; (nl = c.buffer.find('\n')) != std::string::npos;) {
      std::string line = c.buffer.substr(0, nl);
      c.buffer.erase(0, nl + 1);
      std::optional<Message> m = parseMessage(line);
      if (!m) continue;
      if (m->kind == Message::Complete) {
        c.complete = true;
        continue;
      }
      bool prune = decide(c, m->budget, m->value);
      std::string answer = prune ? "prune\n" : "go\n";
      // MSG_NOSIGNAL: a trial that died after asking must not take the
      // tuner with it (SIGPIPE); reap() records its end.
      ::send(c.fd, answer.data(), answer.size(), MSG_NOSIGNAL);
    }
    return true;
  }

  // Records a report and says whether the trial stops. Asha and hyperband
  // compare trials at their rungs; a report past a rung it has not been
  // compared at (validation every few epochs, budgets in steps) counts as
  // reaching that rung.
  bool decide(Child &c, int64_t budget, double value) {
    storage_->report(c.number, budget, value);
    if (spec_.prune.kind == "none") return false;  // nothing to read the study for
    int64_t at = budget;
    if (spec_.prune.kind == "asha" || spec_.prune.kind == "hyperband") {
      std::vector<int64_t> ladder = rungs(spec_.prune, spec_.prune.kind == "hyperband" ? bracketOf(spec_.prune, c.number) : 0);
      std::optional<int64_t> rung;
      for (int64_t r : ladder)
        if (r <= budget && std::find(c.rungsSeen.begin(), c.rungsSeen.end(), r) == c.rungsSeen.end()) rung = r;
      if (!rung) return false;
      c.rungsSeen.push_back(*rung);
      if (*rung != budget) storage_->report(c.number, *rung, value);
      at = *rung;
    }
    Study s = storage_->snapshot();
    if (size_t(c.number) >= s.trials.size()) return false;
    bool prune = shouldPrune(spec_.prune, s, s.trials[size_t(c.number)], at);
    if (prune) {
      c.pruned = true;
      c.prunedValue = value;
    }
    return prune;
  }

  void reap() {
    for (size_t i = 0; i < children_.size();) {
      int status = 0;
      pid_t r = ::waitpid(children_[i].pid, &status, WNOHANG);
      if (r == 0) {
        ++i;
        continue;
      }
      Child c = std::move(children_[i]);
      children_.erase(children_.begin() + long(i));
      // Messages written just before the exit.
      for (pollfd p{c.fd, POLLIN, 0}; ::poll(&p, 1, 0) > 0 && (p.revents & POLLIN) && readFrom(c);) {
      }
      ::close(c.fd);
      finished(c, r < 0 ? -1 : status);
    }
  }

  void finished(const Child &c, int status) {
    bool exitedOk = status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    Study s = storage_->snapshot();
    const Trial *t = size_t(c.number) < s.trials.size() ? &s.trials[size_t(c.number)] : nullptr;
    if (exitedOk && c.pruned) {
      storage_->finish(c.number, TrialState::Pruned, c.prunedValue, "");
      say(fmt::format("trial {} pruned after {} {}: {}={}", c.number, t ? t->budget : 0, spec_.unit, spec_.objective,
                      valueText(c.prunedValue)));
      return;
    }
    if (exitedOk && c.complete && t) {
      std::optional<double> best;
      for (const auto &[budget, v] : t->intermediate)
        if (std::isfinite(v) && (!best || s.better(v, *best))) best = v;
      if (best) {
        storage_->finish(c.number, TrialState::Complete, *best, "");
        const Trial *before = s.best();  // the study's best until this trial
        bool leads = !before || s.better(*best, *before->value);
        say(fmt::format("trial {} complete after {} {}: {}={} (best: trial {}, {})", c.number, t->budget, spec_.unit,
                        spec_.objective, valueText(*best), leads ? c.number : before->number,
                        valueText(leads ? *best : *before->value)));
        return;
      }
      storage_->finish(c.number, TrialState::Failed, std::nullopt,
                       fmt::format("the trial reported no finite `{}`", spec_.objective));
      say(fmt::format("trial {} failed: it reported no finite `{}`", c.number, spec_.objective));
      return;
    }
    if (gStop) {
      // Stopped with the study: it resumes from its checkpoint later.
      storage_->requeue(c.number, "stopped with the study");
      return;
    }
    std::string how = status < 0                ? "was lost"
                      : WIFSIGNALED(status)     ? fmt::format("was killed by signal {}", WTERMSIG(status))
                      : WEXITSTATUS(status) == 0 ? "ended without reporting its end"
                                                 : fmt::format("exited with status {}", WEXITSTATUS(status));
    std::string error = fmt::format("the trial process {}; its log {}:\n{}", how, c.log.string(), logTail(c.log));
    if (c.attempts <= spec_.retries) {
      storage_->requeue(c.number, error);
      say(fmt::format("trial {} {}; retrying it ({} of {} retries), log: {}", c.number, how, c.attempts, spec_.retries,
                      c.log.string()));
    } else {
      storage_->finish(c.number, TrialState::Failed, std::nullopt, error);
      say(fmt::format("trial {} failed: it {}, log: {}", c.number, how, c.log.string()));
    }
  }

  // SIGINT or SIGTERM to the study: each trial writes a checkpoint and
  // stops (SIGTERM), and goes back to the queue.
  void stopChildren() {
    if (stopping_) return;
    stopping_ = true;
    for (const Child &c : children_) ::kill(c.pid, SIGTERM);
  }

  const mlc_plan &plan_;
  const Manifest &base_;
  const Options &o_;
  const Splits &data_;
  SweepSpec spec_;
  std::string worker_;
  std::unique_ptr<Storage> storage_;
  std::vector<Child> children_;
  bool stopping_ = false;
  struct sigaction oldInt_ {}, oldTerm_ {};
};

// A stage after the study in a process of its own, so the tuner never
// trains itself: a run of `params` in `mode`. With `of` (a trial's number)
// it works in that trial's files (its weights) instead of starting a run of
// its own; with a `log` its output goes there; `outputs`: predict's raw
// outputs. Returns its exit status (128 + the signal that ended it).
int stageProcess(const mlc_plan &plan, const Options &base, const SweepSpec &spec, const Params &params, Mode mode,
                 std::optional<int> of, const Splits &data, const fs::path &log = {}, const std::string &outputs = "") {
  std::cout.flush();
  std::cerr.flush();
  pid_t pid = ::fork();
  if (pid < 0) throw Error(fmt::format("fork: {}", std::strerror(errno)));
  if (pid == 0) {
    if (!log.empty()) redirectOutput(log, O_TRUNC);
    childProcess([&] {
      Manifest m;
      Options o = base;
      size_t variant = runWith(plan, spec, params, m, o);
      o.mode = mode;
      o.outputs = outputs;
      TrialRun trial;
      if (of) {
        trial.number = *of;
        trial.study = spec.study;
        trial.dir = trialDir(base, spec, *of);
        o.trial = &trial;
      }
      for (const std::string &w : applyOverrides(m, o)) std::cerr << "warning: " << w << '\n';
      return runExperiment(plan.variants[variant], m, o, data);
    });
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) throw Error(fmt::format("waitpid: {}", std::strerror(errno)));
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

// Refit the best configuration and test it, or test the best trial's own
// checkpoint.
int runStage(const mlc_plan &plan, const Options &base, const SweepSpec &spec, const Trial &best, bool refit,
             const Splits &data) {
  if (refit) return stageProcess(plan, base, spec, best.params, Mode::FitTest, std::nullopt, data);
  return stageProcess(plan, base, spec, best.params, Mode::Test, best.number, data);
}

// The ensemble stage: each of the best `spec.ensemble` complete trials
// predicts the test split with its final weights, in a process of its own
// running its own variant (its output goes to its log beside the
// ensemble's files); the tuner averages the outputs and scores them. Returns
// the line to print and report ("trials 3, 7: test.loss=..."), and writes
// <study>/ensemble/{metrics.json,predictions.csv}.
std::string runEnsemble(const mlc_plan &plan, const Manifest &base, const Options &options, const SweepSpec &spec,
                        const Study &s, const Splits &data) {
  const Split *test = data.named("test");
  if (!test) throw Error("the ensemble is tested on the test split, and the data set has none");
  OutputKind kind = outputKind(base);
  std::vector<const Trial *> members;
  for (const Trial &t : s.trials)
    if (t.state == TrialState::Complete && t.value && std::isfinite(*t.value)) members.push_back(&t);
  std::stable_sort(members.begin(), members.end(),
                   [&](const Trial *a, const Trial *b) { return s.rankKey(*a->value) < s.rankKey(*b->value); });
  if (members.size() > size_t(spec.ensemble)) members.resize(size_t(spec.ensemble));
  if (members.size() < size_t(spec.ensemble))
    std::cerr << fmt::format("tune: ensemble: only {} trials completed, so it has {} members, not {}\n", members.size(),
                             members.size(), spec.ensemble);
  fs::path dir = studyDir(options, spec) / "ensemble";
  fs::create_directories(dir);
  std::vector<std::vector<float>> outputs;
  std::string numbers;
  for (const Trial *t : members) {
    fs::path raw = dir / fmt::format("trial-{:04d}.f32", t->number), log = dir / fmt::format("trial-{:04d}.log", t->number);
    if (stageProcess(plan, options, spec, t->params, Mode::Predict, t->number, data, log, raw.string()) != 0)
      throw Error(fmt::format("the ensemble's member trial {} could not predict; its log {}:\n{}", t->number,
                              log.string(), logTail(log)));
    std::string bytes = readFile(raw);
    std::vector<float> values(bytes.size() / sizeof(float));
    std::memcpy(values.data(), bytes.data(), values.size() * sizeof(float));
    outputs.push_back(std::move(values));
    numbers += (numbers.empty() ? "" : ", ") + std::to_string(t->number);
  }
  std::vector<float> mean = averageOutputs(kind, outputs, base.data.classLabels ? base.classes : 0);
  Metrics metrics = scoreOutputs(base, kind, mean, *test);
  std::vector<int> numbersOf;
  for (const Trial *t : members) numbersOf.push_back(t->number);
  writeFileAtomically(dir / "metrics.json", ensembleJson(numbersOf, metrics));
  const IoSpec *label = base.ioNamed("label");
  int64_t width = int64_t(mean.size()) / std::max<int64_t>(1, test->size());
  writeFileAtomically(dir / "predictions.csv", predictionsCsv(base, *test, mean, width, label ? label->perSampleElements() : 1));
  return ensembleLine(ensembleJson(numbersOf, metrics));
}

ReportInfo reportInfo(const Manifest &base, const SweepSpec &spec, const std::string &storage) {
  ReportInfo info;
  info.title = base.experiment;
  info.budgetUnit = spec.unit;
  info.search = spec.search.kind;
  info.pruner = spec.prune.kind;
  info.extra = {{"storage", storage}, {"trials planned", std::to_string(spec.trials)},
                {"parallel", std::to_string(spec.parallel)}};
  return info;
}

fs::path writeReport(const Manifest &base, const Options &options, const SweepSpec &spec, Storage &storage,
                     const std::string &ensemble = "") {
  fs::path out = options.output.empty() ? studyDir(options, spec) / "report.html" : fs::path(options.output);
  ReportInfo info = reportInfo(base, spec, storage.describe());
  if (!ensemble.empty()) info.extra.emplace_back("ensemble", ensemble);
  writeFileAtomically(out, renderReport(storage.snapshot(), info), false);
  return out;
}

// `study` and `report` read a study; they never create one.
std::unique_ptr<Storage> openExisting(const SweepSpec &spec) {
  std::unique_ptr<Storage> storage = openStorage(spec.storage, false);
  storage->open(studyInfo(spec), false);
  return storage;
}

}  // namespace

std::string countsLine(const Study &s) {
  int finished = 0, pruned = 0, failed = 0, running = 0;
  for (const Trial &t : s.trials) {
    finished += t.state == TrialState::Complete;
    pruned += t.state == TrialState::Pruned;
    failed += t.state == TrialState::Failed;
    running += t.state == TrialState::Running;
  }
  return fmt::format("{} finished, {} pruned, {} failed, {} running", finished, pruned, failed, running);
}

int runTune(const mlc_plan &plan, const Manifest &base, const Options &options, const Splits &data) {
  Tuner tuner(plan, base, options, data);
  int status = tuner.run();
  if (status > 128) return status;
  const SweepSpec &spec = tuner.spec();
  Study s = tuner.storage().snapshot();
  fs::path report = writeReport(base, options, spec, tuner.storage());
  const Trial *best = s.best();
  if (!best) {
    std::cerr << fmt::format("error: no trial of study `{}` completed; see `{}`\n", spec.study, report.string());
    return 1;
  }
  std::cerr << fmt::format("tune: best: trial {}, {}={}: {}\n", best->number, spec.objective, valueText(*best->value),
                           paramsLine(spec.space, best->params))
            << std::flush;
  int stage = runStage(plan, options, spec, *best, spec.refit, data);
  std::string ensemble;
  if (stage == 0 && spec.ensemble > 0) {
    try {
      ensemble = runEnsemble(plan, base, options, spec, s, data);
      std::cerr << "tune: ensemble of " << ensemble << '\n' << std::flush;
      std::cout << "ensemble: " << ensemble.substr(ensemble.find(": ") + 2) << '\n' << std::flush;
    } catch (const Error &e) {
      std::cerr << "error: " << printable(e.what()) << '\n' << std::flush;
      stage = 1;
    }
  }
  // The report again, now that the stages have run (and `report` can be
  // asked for at any time).
  writeReport(base, options, spec, tuner.storage(), ensemble);
  std::cerr << "tune: report: " << report.string() << '\n' << std::flush;
  return stage;
}

int printStudy(const Manifest &base, const Options &options) {
  SweepSpec spec = loadSpec(base, options);
  std::unique_ptr<Storage> storage = openExisting(spec);
  Study s = storage->snapshot();
  std::vector<std::string> headers = {"trial", "state"};
  for (const Dim &d : s.space.dims) headers.push_back(d.path);
  headers.push_back(spec.objective);
  headers.push_back(spec.unit);
  std::vector<std::vector<std::string>> rows;
  for (const Trial &t : s.trials) {
    std::vector<std::string> row = {std::to_string(t.number), stateName(t.state)};
    for (size_t i = 0; i < s.space.dims.size(); ++i)
      row.push_back(i < t.params.size() && t.params[i] && s.space.active(t.params, i) ? s.space.dims[i].text(*t.params[i])
                                                                                      : "-");
    row.push_back(t.value ? valueText(*t.value) : "-");
    row.push_back(std::to_string(t.budget));
    rows.push_back(std::move(row));
  }
  std::vector<size_t> width(headers.size());
  for (size_t c = 0; c < headers.size(); ++c) {
    width[c] = headers[c].size();
    for (const auto &r : rows) width[c] = std::max(width[c], r[c].size());
  }
  auto line = [&](const std::vector<std::string> &cells) {
    std::string out;
    for (size_t c = 0; c < cells.size(); ++c) out += fmt::format("{:<{}}  ", cells[c], width[c]);
    while (!out.empty() && out.back() == ' ') out.pop_back();
    std::cout << out << '\n';
  };
  std::cout << fmt::format("study `{}` in {}: {} {}\n", spec.study, storage->describe(),
                           spec.minimize ? "minimize" : "maximize", spec.objective);
  line(headers);
  for (const auto &r : rows) line(r);
  if (const Trial *b = s.best())
    std::cout << fmt::format("best: trial {}, {}={}\n", b->number, spec.objective, valueText(*b->value));
  std::cout << "trials: " << countsLine(s) << '\n' << std::flush;
  return 0;
}

int writeStudyReport(const Manifest &base, const Options &options) {
  SweepSpec spec = loadSpec(base, options);
  std::unique_ptr<Storage> storage = openExisting(spec);
  // The last ensemble stage's result, as `tune` reported it.
  std::string ensemble = ensembleLine(readFileIfExists(studyDir(options, spec) / "ensemble" / "metrics.json"));
  std::cout << writeReport(base, options, spec, *storage, ensemble).string() << '\n' << std::flush;
  return 0;
}

std::string studyPlanText(const Manifest &base, const Options &options) {
  SweepSpec spec = loadSpec(base, options);
  std::string out = fmt::format("study: {} in {}\n", spec.study, spec.storage);
  out += fmt::format("trials: {}, {} at a time, {} search (seed {}), {} pruning\n", spec.trials, spec.parallel,
                     spec.search.kind, spec.search.seed, spec.prune.kind);
  std::vector<int64_t> r = rungs(spec.prune);
  if (!r.empty()) {
    std::string list;
    for (int64_t b : r) list += (list.empty() ? "" : ", ") + std::to_string(b);
    out += fmt::format("rungs: {} {}\n", list, spec.unit);
  }
  out += fmt::format("compiled variants: {}\n", spec.variants.size());
  out += fmt::format("then: {}{}\n", spec.refit ? "refit the best configuration and test it" : "test the best trial",
                     spec.ensemble > 0 ? fmt::format("; test the ensemble of the best {} trials", spec.ensemble) : "");
  return out;
}

}  // namespace mlcrt::tune
