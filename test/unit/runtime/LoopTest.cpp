// The training loop end to end through mlcrt_main, with a hand-written plan:
// softmax regression (4 features, 3 classes) by SGD, its matmuls through
// mlcrt_sgemm like generated code. Checks what the steps are handed
// (counters, batches, threads, hparams), initialisation, determinism,
// accumulation, predict's file and the final metrics line.
#include "abi/plan.h"
#include "src/Loop.h"

#include "SampleManifest.h"

#include <gtest/gtest.h>
#include <omp.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

constexpr int64_t kW = 4, kC = 3;

// What the steps saw, for the checks.
struct Calls {
  std::vector<float> steps, totals;
  std::vector<uint64_t> micros;
  std::vector<int64_t> batches;
  int applies = 0, evals = 0;
  std::vector<float> hparams;
  int threads = 0;
  std::vector<float> firstEvalState;  // the state the first eval_step read
};
Calls calls;

float *weights(mlc_step_ctx *ctx) { return reinterpret_cast<float *>(ctx->state); }
float *bias(mlc_step_ctx *ctx) { return reinterpret_cast<float *>(ctx->state + 48); }
float *gradAcc(mlc_step_ctx *ctx) { return reinterpret_cast<float *>(ctx->state + 80); }  // accumulate runs only

// logits = X W + b; probabilities into scratch; returns the mean loss.
float forward(mlc_step_ctx *ctx) {
  const float *x = static_cast<const float *>(ctx->io[0]);
  const int64_t *y = static_cast<const int64_t *>(ctx->io[1]);
  float *logits = static_cast<float *>(ctx->io[3]);
  float *p = reinterpret_cast<float *>(ctx->scratch + 64);
  for (int64_t i = 0; i < ctx->batch; ++i)
    for (int64_t c = 0; c < kC; ++c) logits[i * kC + c] = bias(ctx)[c];
  mlcrt_sgemm(0, 0, ctx->batch, kC, kW, 1.0f, x, kW, weights(ctx), kC, 1.0f, logits, kC);
  double loss = 0;
  for (int64_t i = 0; i < ctx->batch; ++i) {
    float top = std::max({logits[i * kC], logits[i * kC + 1], logits[i * kC + 2]});
    double z = 0;
    for (int64_t c = 0; c < kC; ++c) z += p[i * kC + c] = std::exp(logits[i * kC + c] - top);
    for (int64_t c = 0; c < kC; ++c) p[i * kC + c] = float(p[i * kC + c] / z);
    loss -= std::log(std::max(p[i * kC + y[i]], 1e-30f));
  }
  float mean = float(loss / double(ctx->batch));
  *static_cast<float *>(ctx->io[2]) = mean;
  return mean;
}

// Gradient of the mean loss into `gw` (W's 12 values, then b's 3), added.
void backward(mlc_step_ctx *ctx, float *gw) {
  const float *x = static_cast<const float *>(ctx->io[0]);
  const int64_t *y = static_cast<const int64_t *>(ctx->io[1]);
  float *p = reinterpret_cast<float *>(ctx->scratch + 64);
  for (int64_t i = 0; i < ctx->batch; ++i) {
    p[i * kC + y[i]] -= 1;
    for (int64_t c = 0; c < kC; ++c) p[i * kC + c] /= float(ctx->batch);
  }
  mlcrt_sgemm(1, 0, kW, kC, ctx->batch, 1.0f, x, kW, p, kC, 1.0f, gw, kC);
  for (int64_t i = 0; i < ctx->batch; ++i)
    for (int64_t c = 0; c < kC; ++c) gw[kW * kC + c] += p[i * kC + c];
}

void record(mlc_step_ctx *ctx) {
  calls.steps.push_back(ctx->hparams[2]);
  calls.totals.push_back(ctx->hparams[3]);
  calls.micros.push_back(ctx->micro);
  calls.batches.push_back(ctx->batch);
  calls.hparams.assign(ctx->hparams, ctx->hparams + 2);
  calls.threads = omp_get_max_threads();
}

void sgd(mlc_step_ctx *ctx, const float *g) {
  float lr = ctx->hparams[0];
  for (int64_t i = 0; i < kW * kC; ++i) weights(ctx)[i] -= lr * g[i];
  for (int64_t c = 0; c < kC; ++c) bias(ctx)[c] -= lr * g[kW * kC + c];
}

void trainStep(mlc_step_ctx *ctx) {
  record(ctx);
  forward(ctx);
  float g[kW * kC + kC] = {};
  backward(ctx, g);
  sgd(ctx, g);
}

void accumulateStep(mlc_step_ctx *ctx) {
  record(ctx);
  forward(ctx);
  backward(ctx, gradAcc(ctx));
}

void applyStep(mlc_step_ctx *ctx) {
  ++calls.applies;
  calls.steps.push_back(ctx->hparams[2]);
  sgd(ctx, gradAcc(ctx));
  std::fill(gradAcc(ctx), gradAcc(ctx) + kW * kC + kC, 0.0f);
}

void evalStep(mlc_step_ctx *ctx) {
  if (calls.evals++ == 0) calls.firstEvalState.assign(weights(ctx), weights(ctx) + 20);
  forward(ctx);
}

class Loop : public ::testing::Test {
protected:
  void SetUp() override {
    calls = Calls{};
    const auto *info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("mlcrt-loop-" + std::string(info->name()) + "-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // Three separable clusters, 60 rows, classes in turn.
    std::ostringstream csv;
    for (int i = 0; i < 60; ++i) {
      int c = i % 3;
      double jitter = double((i * 37) % 11) / 11.0 - 0.5;
      csv << (c == 0 ? 3 : 0) + jitter << ',' << (c == 1 ? 3 : 0) - jitter << ',' << (c == 2 ? 3 : 0) + 0.5 * jitter
          << ',' << jitter << ',' << c << '\n';
    }
    std::ofstream((dir_ / "data.csv").string()) << csv.str();
    manifest_ = mlcrt::test::sampleManifest((dir_ / "data.csv").string());
    manifest_["trainer"]["epochs"] = 5;
    manifest_["scratch_fixed_bytes"] = 64;
  }
  void TearDown() override { fs::remove_all(dir_); }
  mlc_variant variant_{};

  using Result = mlcrt::test::MainResult;

  Result run(std::vector<std::string> args, mlc_step_fn train = trainStep, mlc_step_fn apply = nullptr) {
    json_ = manifest_.dump();
    variant_ = {json_.c_str(), train, apply, evalStep};
    mlc_plan plan{MLC_PLAN_ABI_VERSION, 1, &variant_};
    return mlcrt::test::runMain(plan, std::move(args), "exp");
  }

  std::string read(const fs::path &path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  fs::path dir_;
  Json manifest_;
  std::string json_;
};

double metric(const std::string &line, const std::string &name) {
  size_t at = line.find(name + "=");
  if (at == std::string::npos) return NAN;
  return std::stod(line.substr(at + name.size() + 1));
}

TEST_F(Loop, FitThenTest) {
  Result r = run({"--threads", "2"});
  ASSERT_EQ(r.status, 0) << r.err;
  // 60 rows: 36 train, 12 val, 12 test; batch 8 gives 5 batches an epoch.
  std::istringstream err(r.err);
  std::string line;
  int epochs = 0;
  while (std::getline(err, line)) {
    ++epochs;
    EXPECT_EQ(line.rfind("epoch " + std::to_string(epochs) + "/5 train.loss=", 0), 0u) << line;
    EXPECT_NE(line.find(" val.loss="), std::string::npos) << line;
    EXPECT_NE(line.find(" val.accuracy="), std::string::npos) << line;
    EXPECT_NE(line.find(" val.f1="), std::string::npos) << line;
    EXPECT_EQ(line.back(), ')');
  }
  EXPECT_EQ(epochs, 5);
  // One line: the last epoch's train loss and val metrics, then test's.
  ASSERT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  std::vector<std::string> names;
  std::istringstream out(r.out);
  for (std::string pair; out >> pair;) {
    names.push_back(pair.substr(0, pair.find('=')));
    std::string value = pair.substr(pair.find('=') + 1);
    EXPECT_EQ(value.size() - value.find('.'), 5u) << "four decimals: " << pair;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"train.loss", "val.loss", "val.accuracy", "val.f1", "test.loss",
                                             "test.accuracy", "test.f1"}));
  EXPECT_GT(metric(r.out, "val.accuracy"), 0.9);
  EXPECT_GT(metric(r.out, "test.accuracy"), 0.9);
  EXPECT_LT(metric(r.out, "train.loss"), 0.5);

  // The counters: updates so far, and 5 epochs x 5 batches in all.
  ASSERT_EQ(calls.steps.size(), 25u);
  for (size_t i = 0; i < 25; ++i) {
    EXPECT_EQ(calls.steps[i], float(i));
    EXPECT_EQ(calls.totals[i], 25.0f);
    EXPECT_EQ(calls.micros[i], i);
    EXPECT_EQ(calls.batches[i], i % 5 == 4 ? 4 : 8);  // 36 = 4 x 8 + 4
  }
  EXPECT_EQ(calls.hparams, (std::vector<float>{0.5f, 0.1f}));
  EXPECT_EQ(calls.threads, 2);
}

TEST_F(Loop, InitialisationAndTestMode) {
  Result r = run({"test", "--seed", "123"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err.rfind("error: no trained run of this configuration under `", 0), 0u) << r.err;
  r = run({"test", "--seed", "123", "--ckpt", "init"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.rfind("test.loss=", 0), 0u) << r.out;
  EXPECT_EQ(calls.steps.size(), 0u);
  ASSERT_EQ(calls.firstEvalState.size(), 20u);
  for (uint64_t i = 0; i < 12; ++i) {
    double u = double(mlc_rng_u32(123, 0, 0, i));
    EXPECT_EQ(calls.firstEvalState[i], float((u * 0x1p-32 * 2 - 1) * 0.5)) << i;
    EXPECT_LE(std::fabs(calls.firstEvalState[i]), 0.5f);
  }
  for (int i = 12; i < 16; ++i) EXPECT_EQ(calls.firstEvalState[size_t(i)], 0.0f);  // bias: zeros, then padding
  for (int i = 16; i < 20; ++i) EXPECT_EQ(calls.firstEvalState[size_t(i)], 1.0f);  // scale: ones
}

TEST_F(Loop, SameSeedSameState) {
  auto fitTo = [&](const std::string &name, std::vector<std::string> extra) {
    std::vector<std::string> args{"fit", "--save-state", (dir_ / name).string()};
    args.insert(args.end(), extra.begin(), extra.end());
    Result r = run(args);
    EXPECT_EQ(r.status, 0) << r.err;
    return read(dir_ / name);
  };
  std::string a = fitTo("a.bin", {}), b = fitTo("b.bin", {});
  EXPECT_EQ(a.size(), 80u);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, fitTo("c.bin", {"--seed", "8"}));
  EXPECT_NE(a, fitTo("d.bin", {"data.seed=1"}));

  // The saved state loads back as it was written.
  calls = Calls{};
  Result loaded = run({"--load-state", (dir_ / "a.bin").string(), "test"});
  ASSERT_EQ(loaded.status, 0) << loaded.err;
  ASSERT_EQ(calls.firstEvalState.size(), 20u);
  EXPECT_EQ(std::string(reinterpret_cast<const char *>(calls.firstEvalState.data()), 80), a);
}

TEST_F(Loop, OverridesReachTheSteps) {
  Result r = run({"fit", "optimizer.lr=0.25", "trainer.epochs=2", "trainer.batch=10", "model.p=0"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(calls.hparams, (std::vector<float>{0.25f, 0.0f}));
  ASSERT_EQ(calls.batches.size(), 8u);  // 36 rows in batches of 10: 4 an epoch
  EXPECT_EQ(calls.batches[3], 6);
  EXPECT_EQ(calls.totals[0], 8.0f);
  // Fit alone ends with train and val only.
  EXPECT_EQ(r.out.find("test."), std::string::npos) << r.out;
  EXPECT_EQ(r.out.rfind("train.loss=", 0), 0u);
}

TEST_F(Loop, BatchLargerThanTheData) {
  // Memory is sized for the largest split, not the batch asked for.
  Result r = run({"fit", "trainer.batch=1000000000000", "trainer.epochs=2"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(calls.batches, (std::vector<int64_t>{36, 36}));
  EXPECT_EQ(calls.totals[0], 2.0f);
}

TEST_F(Loop, Accumulation) {
  manifest_["trainer"]["accumulate"] = 2;
  manifest_["state_bytes"] = 80 + 60;  // room for the accumulated gradient
  Result r = run({"fit", "trainer.epochs=2"}, accumulateStep, applyStep);
  ASSERT_EQ(r.status, 0) << r.err;
  // 5 batches an epoch: updates after batches 2, 4 and the short group of 5.
  EXPECT_EQ(calls.applies, 6);
  // Train steps and applies interleave in `steps`: t t a t t a t a | ...
  std::vector<float> want{0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5};
  EXPECT_EQ(calls.steps, want);
  EXPECT_EQ(calls.totals[0], 6.0f);  // 2 x ceil(36 / 16)

  // Without an apply step the plan cannot accumulate.
  r = run({"fit"}, trainStep, nullptr);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "error: `trainer.accumulate` is 2, but the experiment was compiled without gradient accumulation; "
                   "recompile it with `accumulate = 2`\n");
}

TEST_F(Loop, Predict) {
  Result r = run({"predict", "--ckpt", "init", "--root", (dir_ / "out").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  const fs::path outputs = dir_ / "out" / "test" / "Net" / "iris" / "bs8";
  std::string csv = read(outputs / "predictions.csv");
  EXPECT_EQ(csv.rfind("row,prediction\n", 0), 0u);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 13);  // header + the 12 test rows
  EXPECT_EQ(r.out.rfind("test.loss=", 0), 0u);
  for (const auto &entry : fs::directory_iterator(outputs))
    EXPECT_EQ(entry.path().filename(), "predictions.csv");  // no temporary file left

  // --input: a header and three rows, predicted by a fitted state.
  ASSERT_EQ(run({"fit", "--save-state", (dir_ / "s.bin").string()}).status, 0);
  std::ofstream((dir_ / "in.csv").string()) << "a,b,c,d\n3,0,0,0\n0,3,0,0\n\n0,0,1.5,0\n";
  r = run({"predict", "--load-state", (dir_ / "s.bin").string(), "--input", (dir_ / "in.csv").string(), "--root",
           dir_.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(read(dir_ / "test" / "Net" / "iris" / "bs8" / "predictions.csv"), "row,prediction\n0,0\n1,1\n2,2\n");

  std::ofstream((dir_ / "bad.csv").string()) << "1,2,3\n";
  r = run({"predict", "--ckpt", "init", "--input", (dir_ / "bad.csv").string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, (dir_ / "bad.csv").string() + ":1: error: expected 4 feature values, got 3\n");
}

TEST_F(Loop, RunTimeErrors) {
  std::ofstream((dir_ / "short.bin").string()) << "abc";
  Result r = run({"test", "--load-state", (dir_ / "short.bin").string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "error: `" + (dir_ / "short.bin").string() +
                       "` holds 3 bytes, but this experiment's state is 80 bytes\n");

  manifest_["io"][3]["shape"] = {-1, 4};
  r = run({"fit"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "error: manifest: io `logits` has 4 values a sample, but 1 label positions of 3 classes need 3\n");

  manifest_ = mlcrt::test::sampleManifest((dir_ / "data.csv").string());
  manifest_["data"]["splits"] = {{"train", 0.8}, {"val", 0.2}};
  r = run({"test"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "error: the data set has no test split (give it one with `split = { ..., test: 0.1 }`)\n");
}

}  // namespace
