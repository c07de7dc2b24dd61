// A complete, valid manifest for the runtime's tests: a 4-feature, 3-class
// CSV classifier. Tests break one key at a time to check each message.
#pragma once

#include "abi/plan.h"

#include <gtest/gtest.h>
#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace mlcrt::test {

struct MainResult {
  int status;
  std::string out, err;
};

/// Runs mlcrt_main as an executable named `program` would, capturing what it prints.
inline MainResult runMain(const mlc_plan &plan, std::vector<std::string> args, const std::string &program) {
  args.insert(args.begin(), program);
  // Checkpoints, tracking files and the final model go to a scratch
  // directory per test, unless the test names its own root.
  if (std::find(args.begin(), args.end(), "--root") == args.end()) {
    const testing::TestInfo *info = testing::UnitTest::GetInstance()->current_test_info();
    std::string root = (std::filesystem::temp_directory_path() / "mlcrt-tests" /
                        (std::string(info->test_suite_name()) + "." + info->name()))
                           .string();
    static std::string cleared;  // a fresh directory for each test, kept across its runs
    if (cleared != root) {
      std::filesystem::remove_all(root);
      cleared = root;
    }
    args.insert(args.begin() + 1, {"--root", root});
  }
  std::vector<char *> argv;
  for (std::string &a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  int status = mlcrt_main(&plan, int(args.size()), argv.data());
  std::string out = testing::internal::GetCapturedStdout();
  return {status, out, testing::internal::GetCapturedStderr()};
}

inline nlohmann::ordered_json sampleManifest(const std::string &csvPath = "/nonexistent/iris.csv") {
  using J = nlohmann::ordered_json;
  return J{
      {"abi", 1},
      {"experiment", "iris_net"},
      {"model", "Net"},
      {"data_name", "iris"},
      {"source", "/abs/iris.mlp"},
      {"task", "classification"},
      {"classes", 3},
      {"data",
       {{"kind", "csv"},
        {"path", csvPath},
        {"header", false},
        {"delimiter", ","},
        {"features", {{"range", {0, 4}}}},
        {"label", 4},
        {"normalize", "none"},
        {"splits", {{"train", 0.6}, {"val", 0.2}, {"test", 0.2}}},
        {"seed", 42},
        {"feature_shape", {4}},
        {"label_dtype", "i64"},
        {"label_shape", J::array()}}},
      {"trainer", {{"epochs", 40}, {"batch", 8}, {"seed", 7}, {"accumulate", 1}, {"grad_clip", 0.0}}},
      {"hparams",
       {{{"slot", 0}, {"key", "optimizer.lr"}, {"default", 0.5}, {"type", "float"}},
        {{"slot", 1}, {"key", "model.p"}, {"default", 0.1}, {"type", "float"}},
        {{"slot", 2}, {"key", "step"}, {"counter", true}},
        {{"slot", 3}, {"key", "total_steps"}, {"counter", true}}}},
      {"schema",
       {{{"key", "optimizer.lr"},
         {"type", "float"},
         {"default", 0.5},
         {"min", 0},
         {"min_open", true},
         {"hparam", 0},
         {"doc", "learning rate"}},
        {{"key", "model.p"},
         {"type", "float"},
         {"default", 0.1},
         {"min", 0},
         {"max", 1},
         {"max_open", true},
         {"hparam", 1},
         {"doc", "dropout probability"}},
        {{"key", "trainer.epochs"}, {"type", "int"}, {"default", 40}, {"min", 1}, {"doc", "passes over the train split"}},
        {{"key", "trainer.batch"}, {"type", "int"}, {"default", 8}, {"min", 1}, {"doc", "global batch size"}},
        {{"key", "trainer.seed"}, {"type", "int"}, {"default", 7}, {"doc", "seed of initialisation and order"}},
        {{"key", "data.seed"}, {"type", "int"}, {"default", 42}, {"doc", "seed of the split"}},
        {{"key", "trainer.precision"},
         {"type", "enum"},
         {"values", {"f32", "bf16", "f16"}},
         {"default", "f32"},
         {"doc", "compute precision"}},
        {{"key", "track.dir"}, {"type", "string"}, {"default", "runs"}, {"doc", "root directory"}},
        {{"key", "early_stop.enabled"}, {"type", "bool"}, {"default", false}}}},
      {"state_bytes", 80},
      {"state",
       {{{"name", "linear0.weight"},
         {"offset", 0},
         {"shape", {4, 3}},
         {"init", "uniform"},
         {"bound", 0.5},
         {"role", "param"}},
        {{"name", "linear0.bias"}, {"offset", 48}, {"shape", {3}}, {"init", "zeros"}, {"role", "param"}},
        {{"name", "scale"}, {"offset", 64}, {"shape", {4}}, {"init", "ones"}, {"role", "param"}}}},
      {"scratch_fixed_bytes", 16},
      {"scratch_per_sample_bytes", 24},
      {"io",
       {{{"slot", 0}, {"name", "features"}, {"dtype", "f32"}, {"shape", {-1, 4}}},
        {{"slot", 1}, {"name", "label"}, {"dtype", "i64"}, {"shape", {-1}}},
        {{"slot", 2}, {"name", "loss"}, {"dtype", "f32"}, {"shape", J::array()}},
        {{"slot", 3}, {"name", "logits"}, {"dtype", "f32"}, {"shape", {-1, 3}}}}},
      {"metrics", {{{"name", "accuracy"}}, {{"name", "f1"}, {"average", "macro"}}}},
      // What names the run's directories (the compiler writes every key).
      {"config",
       {{"experiment", "iris_net"},
        {"model", "Net"},
        {"data", "iris"},
        {"optimizer.lr", 0.5},
        {"model.p", 0.1},
        {"trainer.epochs", 40},
        {"trainer.batch", 8},
        {"trainer.seed", 7},
        {"data.seed", 42}}},
      {"naming", {{"int_params", J::array()}, {"aliases", {{"lr", "optimizer.lr"}, {"batch", "trainer.batch"}}}}},
  };
}

}  // namespace mlcrt::test
