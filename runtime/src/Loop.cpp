#include "src/Loop.h"

#include "src/Batcher.h"
#include "src/FileIO.h"
#include "src/Lifecycle.h"
#include "src/Metrics.h"

#include <fmt/format.h>
#include <omp.h>
#include <thread>
#include <xmmintrin.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <numeric>
#include <optional>
#include <unistd.h>

namespace mlcrt {

namespace {

// When libmlcrt's static data is initialised: the process start, as far as
// the runtime can tell (the dynamic loader's few milliseconds aside).
const std::chrono::steady_clock::time_point kProcessStart = std::chrono::steady_clock::now();

constexpr int64_t kAlign = 64;  // a cache line, and enough for any vector the step code uses

struct FreeAligned {
  void operator()(char *p) const { std::free(p); }
};
using Buffer = std::unique_ptr<char, FreeAligned>;

// Zeroed, so nothing a step reads before writing depends on the allocator.
Buffer allocate(int64_t bytes, const char *what) {
  int64_t size = (std::max<int64_t>(bytes, 1) + kAlign - 1) / kAlign * kAlign;
  char *p = static_cast<char *>(std::aligned_alloc(size_t(kAlign), size_t(size)));
  if (!p) throw Error(fmt::format("cannot allocate {} bytes of {}", bytes, what));
  std::memset(p, 0, size_t(size));
  return Buffer(p);
}

int64_t checkedMul(int64_t a, int64_t b, const char *what) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r) || r > (int64_t(1) << 46))
    throw Error(fmt::format("the {} for a batch of this size is too large to allocate", what));
  return r;
}

int64_t ceilDiv(int64_t a, int64_t b) { return a / b + (a % b != 0); }  // no overflow near INT64_MAX

class Runner {
public:
  /// `capacity`: the most samples a step will see, the batch or the largest
  /// split when that is smaller, which sizes io and scratch.
  Runner(const mlc_variant &plan, const Manifest &m, int64_t capacity, int threads)
      : plan_(plan), m_(m), capacity_(capacity), threads_(threads) {
    findIo();
    checkPlan();
    allocateMemory();
    setUpHparams();
    ctx_.state = state_.get();
    ctx_.scratch = scratch_.get();
    ctx_.io = io_.data();
    ctx_.hparams = hparams_.data();
    ctx_.seed = m_.seed;
  }

  void initState() {
    for (size_t index = 0; index < m_.state.size(); ++index) {
      const StateSpec &s = m_.state[index];
      float *p = reinterpret_cast<float *>(state_.get() + s.offset);
      int64_t n = s.elements();
      if (s.init == "zeros") {
        std::fill(p, p + n, 0.0f);
      } else if (s.init == "ones") {
        std::fill(p, p + n, 1.0f);
      } else {
        // U(-bound, bound) from the counter-based stream: element i of
        // tensor `index` is the same number whatever the thread count.
        for (int64_t i = 0; i < n; ++i) {
          uint32_t u = mlc_rng_u32(m_.seed, 0, uint64_t(index), uint64_t(i));
          p[i] = float((double(u) * 0x1p-32 * 2.0 - 1.0) * s.bound);
        }
      }
    }
  }

  void loadState(const std::string &path) {
    std::string bytes = readFile(path);
    if (int64_t(bytes.size()) != m_.stateBytes)
      throw Error(fmt::format("`{}` holds {} bytes, but this experiment's state is {} bytes", path, bytes.size(),
                              m_.stateBytes));
    std::memcpy(state_.get(), bytes.data(), bytes.size());
  }

  // Throughput of the train steps alone (data batching included, validation
  // not), and the time from process start to the first step: `--bench`.
  double trainSeconds = 0, firstStepSeconds = 0;
  const TrialRun *trial_ = nullptr;  // set when this fit is a study's trial
  int64_t trainSamples = 0;

  void saveState(const std::string &path) const {
    writeFileAtomically(path, std::string_view(state_.get(), size_t(m_.stateBytes)));
  }

  // A background thread gathering the next batch pays off when a core is
  // free for it (the math's threads do not use every core) and gathering
  // costs more than handing a batch over between threads. On a machine
  // whose every core computes, it only competes with the math: measured on
  // 2 cores with 2 threads, Fashion-MNIST at batch 1024 ran 5% slower with it.
  bool prefetch(const Split &split) const {
    unsigned cores = std::thread::hardware_concurrency();
    return cores > unsigned(threads_) && m_.batch * split.table->featureWidth >= (int64_t(1) << 16);
  }

  /// Trains for every epoch; returns the last epoch's train loss and val
  /// metrics. The lifecycle resumes, checkpoints, tracks and stops early;
  /// `status` says how the fit ended.
  Metrics fit(const Splits &data, Lifecycle &life, std::string &status, std::string &reason) {
    const Split &train = data.train;
    if (train.size() == 0) throw Error("the train split is empty: there is nothing to fit");
    checkSplit(train, "train");
    const Split *val = data.named("val");
    if (val) checkSplit(*val, "val");

    const int64_t n = train.size(), batchesPerEpoch = ceilDiv(n, m_.batch);
    totalSteps_ = checkedMul(m_.epochs, m_.stepsPerEpoch(n), "number of steps");
    Metrics last;
    TrainPosition pos;
    status = "finished";
    if (life.beginFit(state_.get(), pos, totalSteps_, batchesPerEpoch, last)) return last;
    step_ = pos.step;
    micro_ = pos.micro;
    const double secondsBefore = pos.trainSeconds;
    const int64_t firstEpoch = pos.epoch;
    int64_t samplesHere = 0, epochsDone = pos.epoch;
    for (int64_t epoch = firstEpoch; epoch < m_.epochs && reason.empty(); ++epoch) {
      auto start = std::chrono::steady_clock::now();
      if (epoch == firstEpoch) {
        // A study's trial counts from the moment its tuner started it.
        auto from = trial_ ? trial_->started : kProcessStart;
        firstStepSeconds = std::chrono::duration<double>(start - from).count();
        if (trial_) std::cerr << fmt::format("trial {}: first step {:.1f} ms after its start\n", trial_->number, firstStepSeconds * 1000);
      }
      // A resumed epoch skips the batches it already trained on: batches
      // are consecutive runs of the epoch's order, so the rest is the same.
      std::vector<int64_t> order = shuffledOrder(n, m_.seed, uint64_t(epoch));
      int64_t batchIndex = epoch == firstEpoch ? pos.batch : 0;
      order.erase(order.begin(), order.begin() + std::min<int64_t>(n, batchIndex * m_.batch));
      // Resumed after the epoch's last batch, nothing of it is left to train
      // (a Batcher given no order would walk the whole split).
      std::optional<Batcher> batcher;
      if (!order.empty()) batcher.emplace(train, std::move(order), m_.batch, prefetch(train));
      Batch batch;
      double lossSum = epoch == firstEpoch ? pos.lossSum : 0;
      int64_t seen = epoch == firstEpoch ? pos.seen : 0, pending = 0, lastSize = 0;
      float loss = 0;
      // After every optimizer update, the group's last one included.
      auto afterUpdate = [&] {
        double now = secondsBefore + trainSeconds +
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        reason = life.afterStep(state_.get(), {epoch, batchIndex, step_, micro_, lossSum, seen, now}, loss, samplesHere);
        return reason.empty();
      };
      while (batcher && batcher->next(batch)) {
        load(batch);
        setCounters();
        ctx_.batch = batch.size;
        ctx_.micro = micro_;
        plan_.train_step(&ctx_);
        ++micro_;
        loss = lossValue();
        lossSum += double(loss) * double(batch.size);
        seen += batch.size;
        samplesHere += batch.size;
        lastSize = batch.size;
        ++batchIndex;
        if (!plan_.apply_step) {
          ++step_;  // train_step updated the parameters itself
        } else if (++pending == m_.accumulate) {
          apply(lastSize);
          pending = 0;
        }
        if (pending == 0 && !afterUpdate()) break;
      }
      // A last group shorter than `accumulate` still makes an update, as
      // total_steps counts it.
      if (pending && reason.empty()) {
        apply(lastSize);
        afterUpdate();
      }
      trainSeconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      trainSamples += seen;
      if (!reason.empty()) {
        status = life.signalStatus() ? "killed" : "failed";
        break;
      }

      last = {{"train.loss", lossSum / double(std::max<int64_t>(seen, 1))}};
      if (val && ((epoch + 1) % m_.valEvery == 0 || epoch + 1 == m_.epochs)) {
        Metrics v = evaluate(*val, "val", nullptr);
        last.insert(last.end(), v.begin(), v.end());
      }
      reason = life.afterEpoch(state_.get(), {epoch + 1, 0, step_, micro_, 0, 0, secondsBefore + trainSeconds}, last);
      if (!reason.empty()) status = life.signalStatus() ? "killed" : life.pruned() ? "pruned" : "early_stop";
      epochsDone = epoch + 1;
    }
    if (status != "failed")
      life.endFit(state_.get(), {epochsDone, 0, step_, micro_, 0, 0, secondsBefore + trainSeconds}, last, status,
                  reason);
    return last;
  }

  char *state() { return state_.get(); }

  /// Runs eval_step over `split` in order; fills `outputs` (samples x output
  /// width) when given. Without `score` (no labels) it computes no metrics.
  Metrics evaluate(const Split &split, const std::string &name, std::vector<float> *outputs, bool score = true) {
    checkSplit(split, name);
    std::vector<int64_t> order(size_t(split.size()));
    std::iota(order.begin(), order.end(), 0);
    Batcher batcher(split, std::move(order), m_.batch, true);
    // A classifier may label several positions a sample (a token model, one
    // per input position): MetricSet scores each as a prediction of its own.
    MetricSet metrics(m_.metrics, m_.data.classLabels ? m_.classes : 0, outputWidth_);
    if (outputs) outputs->clear();
    Batch batch;
    while (batcher.next(batch)) {
      load(batch);
      setCounters();
      ctx_.batch = batch.size;
      ctx_.micro = micro_;  // dropout is off; the value only keeps the stream where fit left it
      plan_.eval_step(&ctx_);
      const float *out = static_cast<const float *>(io_[size_t(output_->slot)]);
      const void *labels = io_[size_t(label_->slot)];
      if (score)
        metrics.add(out, m_.data.classLabels ? static_cast<const int64_t *>(labels) : nullptr,
                    m_.data.classLabels ? nullptr : static_cast<const float *>(labels), batch.size,
                    double(lossValue()));
      if (outputs) outputs->insert(outputs->end(), out, out + batch.size * outputWidth_);
    }
    Metrics result;
    if (!score) return result;
    for (auto &[metric, value] : metrics.compute()) result.emplace_back(name + "." + metric, value);
    return result;
  }

  int64_t outputWidth() const { return outputWidth_; }
  int64_t labelWidth() const { return labelWidth_; }

private:
  void findIo() {
    auto need = [&](const char *name) {
      const IoSpec *io = m_.ioNamed(name);
      if (!io) throw Error(fmt::format("manifest: no io slot named `{}`", name));
      return io;
    };
    features_ = need("features");
    label_ = need("label");
    loss_ = need("loss");
    if (!features_->batched()) throw Error("manifest: io `features` must have the batch as its first dimension");
    if (!label_->batched()) throw Error("manifest: io `label` must have the batch as its first dimension");
    if (label_->dtype != (m_.data.classLabels ? "i64" : "f32"))
      throw Error(fmt::format("manifest: io `label` is {}, but the data's labels are {}", label_->dtype,
                              m_.data.classLabels ? "i64" : "f32"));
    if (loss_->dtype != "f32" || loss_->batched() || loss_->perSampleElements() != 1)
      throw Error("manifest: io `loss` must be an f32 scalar");
    // The model's output: batched f32 that is neither input; `logits` when
    // there is a choice.
    for (const IoSpec &io : m_.io) {
      if (!io.batched() || io.dtype != "f32" || io.name == "features" || io.name == "label") continue;
      if (!output_ || io.name == "logits") output_ = &io;
    }
    if (!output_) throw Error("manifest: no io slot holds the model's output (batched f32 besides `features`)");
    featureWidth_ = features_->perSampleElements();
    labelWidth_ = label_->perSampleElements();
    outputWidth_ = output_->perSampleElements();
    if (labelWidth_ < 1 || outputWidth_ < 1) throw Error("manifest: io `label` and the output must not be empty");
    if (m_.data.classLabels) {
      if (outputWidth_ != labelWidth_ * m_.classes)
        throw Error(fmt::format("manifest: io `{}` has {} values a sample, but {} label positions of {} classes "
                                "need {}",
                                output_->name, outputWidth_, labelWidth_, m_.classes, labelWidth_ * m_.classes));
    } else if (outputWidth_ != labelWidth_) {
      throw Error(fmt::format("manifest: io `{}` has {} values a sample, but the targets have {}", output_->name,
                              outputWidth_, labelWidth_));
    }
  }

  void checkPlan() {
    if (!plan_.train_step || !plan_.eval_step) throw Error("the plan has no train or eval step function");
    if (m_.accumulate > 1 && !plan_.apply_step)
      throw Error(fmt::format("`trainer.accumulate` is {}, but the experiment was compiled without gradient "
                              "accumulation; recompile it with `accumulate = {}`",
                              m_.accumulate, m_.accumulate));
  }

  void allocateMemory() {
    state_ = allocate(m_.stateBytes, "state");
    scratch_ = allocate(m_.scratchFixedBytes + checkedMul(m_.scratchPerSampleBytes, capacity_, "scratch memory"),
                        "scratch memory");
    int maxSlot = -1;
    for (const IoSpec &io : m_.io) maxSlot = std::max(maxSlot, io.slot);
    io_.assign(size_t(maxSlot + 1), nullptr);
    for (const IoSpec &io : m_.io) {
      int64_t elements = checkedMul(io.perSampleElements(), io.batched() ? capacity_ : 1, "io buffers");
      ioBuffers_.push_back(allocate(checkedMul(elements, io.dtype == "i64" ? 8 : 4, "io buffers"), "io buffers"));
      io_[size_t(io.slot)] = ioBuffers_.back().get();
    }
  }

  void setUpHparams() {
    int maxSlot = -1;
    for (const HParamSpec &h : m_.hparams) maxSlot = std::max(maxSlot, h.slot);
    hparams_.assign(size_t(maxSlot + 1), 0.0f);
    for (const HParamSpec &h : m_.hparams) {
      if (!h.counter) hparams_[size_t(h.slot)] = float(h.value);
      else if (h.key == "step") stepSlot_ = h.slot;
      else if (h.key == "total_steps") totalSlot_ = h.slot;
    }
  }

  void setCounters() {
    if (stepSlot_ >= 0) hparams_[size_t(stepSlot_)] = float(step_);
    if (totalSlot_ >= 0) hparams_[size_t(totalSlot_)] = float(totalSteps_);
  }

  void apply(int64_t lastBatchSize) {
    setCounters();
    // The size of the group's last batch keeps the per-sample scratch layout
    // inside what was allocated.
    ctx_.batch = lastBatchSize;
    plan_.apply_step(&ctx_);
    ++step_;
  }

  void checkSplit(const Split &split, const std::string &name) const {
    const Table &t = *split.table;
    if (t.featureWidth != featureWidth_)
      throw Error(fmt::format("the {} split has {} feature values a sample, but the experiment was compiled for {}",
                              name, t.featureWidth, featureWidth_));
    if (t.labelWidth != labelWidth_)
      throw Error(fmt::format("the {} split has {} label values a sample, but the experiment was compiled for {}", name,
                              t.labelWidth, labelWidth_));
  }

  // Copies the batch into the io slots: the step functions then see one
  // contiguous buffer whatever the Batcher's memory, for the whole step.
  void load(const Batch &batch) {
    int64_t values = batch.size * featureWidth_;
    void *features = io_[size_t(features_->slot)];
    if (features_->dtype == "f32") {
      std::memcpy(features, batch.features, size_t(values) * sizeof(float));
    } else {  // token ids, held as floats by the table
      int64_t *ids = static_cast<int64_t *>(features);
      for (int64_t i = 0; i < values; ++i) ids[i] = int64_t(batch.features[i]);
    }
    size_t labelBytes = size_t(batch.size * labelWidth_) * (m_.data.classLabels ? sizeof(int64_t) : sizeof(float));
    std::memcpy(io_[size_t(label_->slot)], batch.labels, labelBytes);
  }

  float lossValue() const { return *static_cast<const float *>(io_[size_t(loss_->slot)]); }

  const mlc_variant &plan_;
  const Manifest &m_;
  int64_t capacity_;
  int threads_;
  const IoSpec *features_ = nullptr, *label_ = nullptr, *loss_ = nullptr, *output_ = nullptr;
  int64_t featureWidth_ = 0, labelWidth_ = 0, outputWidth_ = 0;
  Buffer state_, scratch_;
  std::vector<Buffer> ioBuffers_;
  std::vector<void *> io_;
  std::vector<float> hparams_;
  int stepSlot_ = -1, totalSlot_ = -1;
  uint64_t micro_ = 0;
  int64_t step_ = 0, totalSteps_ = 0;
  mlc_step_ctx ctx_{};
};

const Split &testSplit(const Splits &data, Mode mode) {
  const Split *test = data.named("test");
  if (!test)
    throw Error(fmt::format("the data set has no test split (give it one with `split = {{ ..., test: 0.1 }}`{})",
                            mode == Mode::Predict ? ", or predict a CSV with `--input FILE`" : ""));
  return *test;
}

}  // namespace

std::string predictionsCsv(const Manifest &m, const Split &split, const std::vector<float> &outputs,
                          int64_t outputWidth, int64_t labelWidth) {
  int64_t columns = m.data.classLabels ? labelWidth : outputWidth;
  int64_t group = outputWidth / columns;  // scores per predicted value
  std::string out = "row";
  if (columns == 1) out += ",prediction";
  else
    for (int64_t c = 0; c < columns; ++c) out += fmt::format(",prediction{}", c);
  out += '\n';
  for (int64_t i = 0; i < split.size(); ++i) {
    out += std::to_string(split.rows[size_t(i)]);
    const float *row = outputs.data() + i * outputWidth;
    for (int64_t c = 0; c < columns; ++c) {
      const float *v = row + c * group;
      if (m.data.classLabels) out += fmt::format(",{}", std::max_element(v, v + group) - v);
      else out += fmt::format(",{}", *v);  // shortest text that reads back as the same float
    }
    out += '\n';
  }
  return out;
}

Table readInputCsv(const std::string &path, char delimiter, int64_t featureWidth, int64_t labelWidth,
                   bool classLabels, int64_t idLimit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("cannot read `{}`: {}", path, std::strerror(errno)));
  Table t;
  t.featureWidth = featureWidth;
  t.labelWidth = labelWidth;
  std::string line;
  std::vector<float> row;
  for (int64_t lineNo = 1; std::getline(in, line); ++lineNo) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    row.clear();
    std::string bad;
    size_t start = 0;
    while (true) {
      size_t end = line.find(delimiter, start);
      std::string_view cell(line.data() + start, (end == std::string::npos ? line.size() : end) - start);
      while (!cell.empty() && (cell.front() == ' ' || cell.front() == '\t')) cell.remove_prefix(1);
      while (!cell.empty() && (cell.back() == ' ' || cell.back() == '\t')) cell.remove_suffix(1);
      if (!cell.empty() && cell.front() == '+') cell.remove_prefix(1);
      float v = 0;
      auto [ptr, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), v);
      if (cell.empty() || ec != std::errc() || ptr != cell.data() + cell.size() || !std::isfinite(v)) {
        if (bad.empty()) bad = std::string(cell);
      }
      row.push_back(v);
      if (end == std::string::npos) break;
      start = end + 1;
    }
    if (!bad.empty() || row.size() != size_t(featureWidth)) {
      if (t.samples == 0 && lineNo == 1 && !bad.empty()) continue;  // a header
      if (!bad.empty()) throw Error(fmt::format("{}:{}: error: `{}` is not a number", path, lineNo, bad));
      throw Error(fmt::format("{}:{}: error: expected {} feature values, got {}", path, lineNo, featureWidth,
                              row.size()));
    }
    if (idLimit > 0)
      for (float v : row)
        if (v < 0 || v >= float(idLimit) || v != std::floor(v))
          throw Error(fmt::format("{}:{}: error: `{}` is not a token id in [0, {})", path, lineNo, v, idLimit));
    t.features.insert(t.features.end(), row.begin(), row.end());
    ++t.samples;
  }
  if (in.bad()) throw Error(fmt::format("cannot read `{}`", path));
  if (t.samples == 0) throw Error(fmt::format("`{}` holds no rows to predict", path));
  // No labels: placeholders keep the step's loss computable; it is not reported.
  if (classLabels) t.classes.assign(size_t(t.samples * labelWidth), 0);
  else t.targets.assign(size_t(t.samples * labelWidth), 0.0f);
  return t;
}

int runExperiment(const mlc_variant &plan, const Manifest &manifest, const Options &options, const Splits &data) {
  if (options.plan || options.dryRun) {
    std::cout << planText(manifest, options, data.train.size()) << std::flush;
    if (options.dryRun)
      std::cout << fmt::format("dry run: the configuration and the data check out; nothing was {}\n",
                               options.mode == Mode::Test || options.mode == Mode::Predict ? "evaluated" : "trained")
                << std::flush;
    return 0;
  }
  // Denormal floats cost a hundred cycles an operation on x86: Adam's first
  // moment of a unit whose gradient is zero decays into them within a few
  // hundred steps and slows the whole update down several times. Flushing
  // them to zero (FTZ, DAZ) is deterministic too. Set before the first
  // parallel region, so OpenMP's worker threads inherit it.
  _mm_setcsr(_mm_getcsr() | 0x8040);
  // Before the first GEMM: oneDNN and the step code size their teams from it.
  omp_set_num_threads(options.threads);
  // Read before anything is allocated: its size bounds the batch too.
  Split input;
  if (options.mode == Mode::Predict && !options.input.empty()) {
    // The data set's statistics live inside its loader; features read here
    // would not be scaled like the ones the model learnt from.
    if (manifest.data.normalize != "none")
      throw Error(fmt::format("`--input` needs data that is not normalised; this data set uses `normalize = {}`",
                              manifest.data.normalize));
    const IoSpec *features = manifest.ioNamed("features"), *label = manifest.ioNamed("label");
    if (!features || !label) throw Error("manifest: no io slot named `features` or `label`");
    input.table = std::make_shared<const Table>(
        readInputCsv(options.input, manifest.data.kind == "csv" ? manifest.data.delimiter : ',',
                     features->perSampleElements(), label->perSampleElements(), manifest.data.classLabels,
                     features->dtype == "i64" ? std::max<int64_t>(manifest.data.classes, 1) : 0));
    input.rows.resize(size_t(input.table->samples));
    std::iota(input.rows.begin(), input.rows.end(), 0);
  }
  int64_t largest = std::max({data.train.size(), data.val.size(), data.test.size(), input.size()});
  Runner runner(plan, manifest, std::max<int64_t>(1, std::min(manifest.batch, largest)), options.threads);
  runner.trial_ = options.trial;
  if (options.loadState.empty()) runner.initState();
  else runner.loadState(options.loadState);

  const bool fits = options.mode == Mode::Fit || options.mode == Mode::FitTest;
  Lifecycle life(manifest, options, fits ? "fit" : options.mode == Mode::Test ? "test" : "predict");
  Metrics final;
  try {
    if (!fits && options.input.empty()) testSplit(data, options.mode);  // before looking for weights
    if (!fits && options.loadState.empty()) life.loadWeights(runner.state(), options.ckpt);
    switch (options.mode) {
    case Mode::Fit:
    case Mode::FitTest: {
      if (!options.saveState.empty()) {
        // Found out before training, not after it.
        std::filesystem::path dir = std::filesystem::path(options.saveState).parent_path();
        std::error_code ec;
        if (!dir.empty() && !std::filesystem::is_directory(dir, ec))
          throw Error(fmt::format("cannot write `{}`: no directory `{}`", options.saveState, dir.string()));
      }
      std::string status, reason;
      final = runner.fit(data, life, status, reason);
      if (status == "failed") throw Error(reason);
      if (status == "killed") {
        std::cerr << fmt::format("{}: wrote a checkpoint in `{}`; continue with `--resume`\n", reason,
                                 life.runDir().string())
                  << std::flush;
        life.close(final);
        return life.signalStatus();
      }
      if (options.bench)
        std::cout << fmt::format("bench: samples={} train_seconds={:.4f} samples_per_second={:.0f} first_step_ms={:.2f}\n",
                                 runner.trainSamples, runner.trainSeconds,
                                 double(runner.trainSamples) / std::max(runner.trainSeconds, 1e-9),
                                 runner.firstStepSeconds * 1000);
      if (!options.saveState.empty()) runner.saveState(options.saveState);
      if (options.mode == Mode::FitTest && data.named("test")) {
        Metrics t = runner.evaluate(*data.named("test"), "test", nullptr);
        life.recordTest(t);
        final.insert(final.end(), t.begin(), t.end());
      }
      break;
    }
    case Mode::Test:
      final = runner.evaluate(testSplit(data, options.mode), "test", nullptr);
      life.recordTest(final);
      break;
    case Mode::Predict: {
      std::vector<float> outputs;
      std::string csv;
      if (options.input.empty()) {
        const Split &test = testSplit(data, options.mode);
        final = runner.evaluate(test, "test", &outputs);
        csv = predictionsCsv(manifest, test, outputs, runner.outputWidth(), runner.labelWidth());
        if (!options.outputs.empty())
          writeFileAtomically(options.outputs, {reinterpret_cast<const char *>(outputs.data()), outputs.size() * sizeof(float)});
      } else {
        runner.evaluate(input, "input", &outputs, false);
        csv = predictionsCsv(manifest, input, outputs, runner.outputWidth(), runner.labelWidth());
      }
      std::filesystem::path out = life.testDir() / "predictions.csv";
      writeFileAtomically(out, csv);
      std::cerr << fmt::format("wrote {}\n", out.string()) << std::flush;
      break;
    }
    }
  } catch (const std::exception &e) {
    life.failed(e.what());
    throw;
  }
  life.close(final);
  // Predictions for --input have no labels, hence no metrics and no line.
  if (!final.empty()) std::cout << formatMetrics(final) << '\n' << std::flush;
  return 0;
}

}  // namespace mlcrt
