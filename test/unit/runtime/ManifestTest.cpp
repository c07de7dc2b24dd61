// parseManifest: what it reads from a complete manifest, and the exact
// message for each kind of broken key.
#include "src/Manifest.h"

#include "SampleManifest.h"

#include <gtest/gtest.h>

#include <functional>

using mlcrt::Error;
using mlcrt::Manifest;
using mlcrt::parseManifest;
using mlcrt::test::sampleManifest;
using Json = nlohmann::ordered_json;

namespace {

// The message parseManifest throws for the sample with `edit` applied.
std::string errorFor(const std::function<void(Json &)> &edit) {
  Json j = sampleManifest();
  edit(j);
  try {
    parseManifest(j.dump());
  } catch (const Error &e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(Manifest, ReadsEverySection) {
  Manifest m = parseManifest(sampleManifest("/data/iris.csv").dump());
  EXPECT_EQ(m.experiment, "iris_net");
  EXPECT_EQ(m.model, "Net");
  EXPECT_EQ(m.dataName, "iris");
  EXPECT_EQ(m.source, "/abs/iris.mlp");
  EXPECT_EQ(m.task, "classification");
  EXPECT_EQ(m.classes, 3);

  EXPECT_EQ(m.data.kind, "csv");
  EXPECT_EQ(m.data.path, "/data/iris.csv");
  EXPECT_FALSE(m.data.header);
  EXPECT_EQ(m.data.delimiter, ',');
  ASSERT_TRUE(m.data.featureRange);
  EXPECT_EQ(*m.data.featureRange, (std::pair<int64_t, int64_t>{0, 4}));
  EXPECT_EQ(m.data.label, "4");
  EXPECT_EQ(m.data.normalize, "none");
  ASSERT_EQ(m.data.splits.size(), 3u);
  EXPECT_EQ(m.data.splits[0], (std::pair<std::string, double>{"train", 0.6}));
  EXPECT_EQ(m.data.splits[2].first, "test");
  EXPECT_EQ(m.data.seed, 42u);
  EXPECT_EQ(m.data.featureShape, std::vector<int64_t>{4});
  EXPECT_TRUE(m.data.classLabels);
  EXPECT_TRUE(m.data.labelShape.empty());
  EXPECT_EQ(m.data.classes, 3);

  EXPECT_EQ(m.epochs, 40);
  EXPECT_EQ(m.batch, 8);
  EXPECT_EQ(m.seed, 7u);
  EXPECT_EQ(m.accumulate, 1);

  ASSERT_EQ(m.hparams.size(), 4u);
  EXPECT_EQ(m.hparams[0].key, "optimizer.lr");
  EXPECT_DOUBLE_EQ(m.hparams[0].value, 0.5);
  EXPECT_TRUE(m.hparams[2].counter);
  EXPECT_EQ(m.hparamSlot("model.p"), 1);
  EXPECT_EQ(m.hparamSlot("total_steps"), 3);
  EXPECT_EQ(m.hparamSlot("nope"), -1);

  ASSERT_EQ(m.schema.size(), 9u);
  const mlcrt::SchemaEntry *lr = m.schemaEntry("optimizer.lr");
  ASSERT_NE(lr, nullptr);
  EXPECT_EQ(lr->type, "float");
  EXPECT_EQ(lr->defaultText, "0.5");
  EXPECT_EQ(lr->min, 0.0);
  EXPECT_TRUE(lr->minOpen);
  EXPECT_FALSE(lr->max);
  EXPECT_EQ(lr->hparam, 0);
  EXPECT_EQ(lr->doc, "learning rate");
  const mlcrt::SchemaEntry *precision = m.schemaEntry("trainer.precision");
  ASSERT_NE(precision, nullptr);
  EXPECT_EQ(precision->values, (std::vector<std::string>{"f32", "bf16", "f16"}));
  EXPECT_EQ(precision->defaultText, "f32");
  EXPECT_EQ(precision->hparam, -1);
  EXPECT_EQ(m.schemaEntry("early_stop.enabled")->defaultText, "false");
  EXPECT_EQ(m.schemaEntry("trainer.epochs")->defaultText, "40");
  EXPECT_EQ(m.schemaEntry("missing"), nullptr);

  EXPECT_EQ(m.stateBytes, 80);
  ASSERT_EQ(m.state.size(), 3u);
  EXPECT_EQ(m.state[0].elements(), 12);
  EXPECT_EQ(m.state[0].init, "uniform");
  EXPECT_DOUBLE_EQ(m.state[0].bound, 0.5);
  EXPECT_EQ(m.state[1].offset, 48);
  EXPECT_EQ(m.state[1].role, "param");
  EXPECT_EQ(m.scratchFixedBytes, 16);
  EXPECT_EQ(m.scratchPerSampleBytes, 24);

  ASSERT_EQ(m.io.size(), 4u);
  const mlcrt::IoSpec *logits = m.ioNamed("logits");
  ASSERT_NE(logits, nullptr);
  EXPECT_TRUE(logits->batched());
  EXPECT_EQ(logits->perSampleElements(), 3);
  EXPECT_FALSE(m.ioNamed("loss")->batched());
  EXPECT_EQ(m.ioNamed("loss")->perSampleElements(), 1);
  EXPECT_EQ(m.ioNamed("label")->perSampleElements(), 1);
  EXPECT_EQ(m.ioNamed("nope"), nullptr);

  ASSERT_EQ(m.metrics.size(), 2u);
  EXPECT_EQ(m.metrics[1].label(), "f1");
  EXPECT_EQ(m.metrics[1].average, "macro");
  EXPECT_EQ(m.metrics[0].k, 5);
}

TEST(Manifest, OptionalKeysTakeTheirDefaults) {
  Json j = sampleManifest();
  j["data"].erase("header");
  j["data"].erase("delimiter");
  j["data"].erase("normalize");
  j["data"].erase("seed");
  j["data"].erase("label_shape");
  j["trainer"].erase("seed");
  j["trainer"].erase("accumulate");
  j.erase("hparams");
  j["schema"] = Json::array();
  j.erase("metrics");
  j.erase("model");
  Manifest m = parseManifest(j.dump());
  EXPECT_EQ(m.data.delimiter, ',');
  EXPECT_EQ(m.data.normalize, "none");
  EXPECT_EQ(m.data.seed, 0u);
  EXPECT_EQ(m.seed, 0u);
  EXPECT_EQ(m.accumulate, 1);
  EXPECT_TRUE(m.hparams.empty());
  EXPECT_TRUE(m.metrics.empty());
  EXPECT_EQ(m.model, "");
}

TEST(Manifest, OtherDataKinds) {
  Json j = sampleManifest();
  j["data"] = {{"kind", "idx"},         {"images", "/d/i.gz"},         {"labels", "/d/l.gz"},
               {"test_images", "/d/ti"}, {"test_labels", "/d/tl"},     {"splits", {{"train", 0.9}, {"val", 0.1}}},
               {"feature_shape", {1, 28, 28}}, {"label_dtype", "i64"}, {"normalize", "minmax"}};
  Manifest m = parseManifest(j.dump());
  EXPECT_EQ(m.data.images, "/d/i.gz");
  EXPECT_EQ(m.data.testLabels, "/d/tl");
  EXPECT_EQ(m.data.featureShape, (std::vector<int64_t>{1, 28, 28}));
  EXPECT_EQ(m.data.normalize, "minmax");

  j["data"] = {{"kind", "tokens"},       {"tokens_path", "/d/t.bin"}, {"context", 16},
               {"splits", {{"train", 1}}}, {"feature_shape", {16}},   {"label_dtype", "i64"},
               {"label_shape", {16}}};
  m = parseManifest(j.dump());
  EXPECT_EQ(m.data.tokensPath, "/d/t.bin");
  EXPECT_EQ(m.data.context, 16);
  EXPECT_EQ(m.data.labelShape, std::vector<int64_t>{16});

  j["data"] = {{"kind", "npy"}, {"features_path", "/d/x.npy"}, {"labels_path", "/d/y.npy"},
               {"splits", {{"train", 1}}}, {"feature_shape", {4}}, {"label_dtype", "i64"}};
  m = parseManifest(j.dump());
  EXPECT_EQ(m.data.featuresPath, "/d/x.npy");
  EXPECT_EQ(m.data.labelsPath, "/d/y.npy");

  // Columns by index or name.
  j = sampleManifest();
  j["data"]["features"] = {{"columns", {3, "petal_len"}}};
  j["data"]["label"] = "species";
  j["data"]["delimiter"] = ";";
  m = parseManifest(j.dump());
  EXPECT_FALSE(m.data.featureRange);
  EXPECT_EQ(m.data.featureColumns, (std::vector<std::string>{"3", "petal_len"}));
  EXPECT_EQ(m.data.label, "species");
  EXPECT_EQ(m.data.delimiter, ';');
}

TEST(Manifest, Regression) {
  Json j = sampleManifest();
  j["task"] = "regression";
  j.erase("classes");
  j["data"]["label_dtype"] = "f32";
  j["data"]["label_shape"] = {1};
  Manifest m = parseManifest(j.dump());
  EXPECT_FALSE(m.data.classLabels);
  EXPECT_EQ(m.classes, 0);
  EXPECT_EQ(m.data.labelShape, std::vector<int64_t>{1});
}

TEST(Manifest, SeedsKeepTheirBits) {
  Json j = sampleManifest();
  j["trainer"]["seed"] = -1;
  j["data"]["seed"] = 18446744073709551615ull;
  Manifest m = parseManifest(j.dump());
  EXPECT_EQ(m.seed, ~uint64_t(0));
  EXPECT_EQ(m.data.seed, ~uint64_t(0));
}

TEST(Manifest, MissingKeys) {
  EXPECT_EQ(errorFor([](Json &j) { j["data"].erase("path"); }), "manifest: missing key `data.path`");
  EXPECT_EQ(errorFor([](Json &j) { j.erase("trainer"); }), "manifest: missing key `trainer`");
  EXPECT_EQ(errorFor([](Json &j) { j["trainer"].erase("epochs"); }), "manifest: missing key `trainer.epochs`");
  EXPECT_EQ(errorFor([](Json &j) { j.erase("abi"); }), "manifest: missing key `abi`");
  EXPECT_EQ(errorFor([](Json &j) { j.erase("classes"); }), "manifest: missing key `classes`");
  EXPECT_EQ(errorFor([](Json &j) { j["data"].erase("label"); }), "manifest: missing key `data.label`");
  EXPECT_EQ(errorFor([](Json &j) { j["data"]["features"] = Json::object(); }),
            "manifest: missing key `data.features.range` or `data.features.columns`");
  EXPECT_EQ(errorFor([](Json &j) { j["state"][1].erase("offset"); }), "manifest: missing key `state[1].offset`");
  EXPECT_EQ(errorFor([](Json &j) { j["state"][0].erase("bound"); }), "manifest: missing key `state[0].bound`");
  EXPECT_EQ(errorFor([](Json &j) { j["io"][3].erase("dtype"); }), "manifest: missing key `io[3].dtype`");
  EXPECT_EQ(errorFor([](Json &j) { j["hparams"][0].erase("default"); }),
            "manifest: missing key `hparams[0].default`");
  EXPECT_EQ(errorFor([](Json &j) { j["schema"][2].erase("type"); }), "manifest: missing key `schema[2].type`");
  EXPECT_EQ(errorFor([](Json &j) { j["metrics"][0].erase("name"); }), "manifest: missing key `metrics[0].name`");
  EXPECT_EQ(errorFor([](Json &j) { j.erase("scratch_per_sample_bytes"); }),
            "manifest: missing key `scratch_per_sample_bytes`");
  EXPECT_EQ(errorFor([](Json &j) { j["data"]["splits"].erase("train"); }),
            "manifest: missing key `data.splits.train`");
  // null counts as missing: the compiler never writes it for a value.
  EXPECT_EQ(errorFor([](Json &j) { j["data"]["path"] = nullptr; }), "manifest: missing key `data.path`");
  EXPECT_EQ(errorFor([](Json &j) {
              j["data"] = {{"kind", "idx"}, {"images", "/i"}, {"splits", {{"train", 1}}}};
            }),
            "manifest: missing key `data.labels`");
  EXPECT_EQ(errorFor([](Json &j) {
              j["data"] = {{"kind", "tokens"}, {"tokens_path", "/t"}, {"splits", {{"train", 1}}}};
            }),
            "manifest: missing key `data.context`");
}

TEST(Manifest, WrongTypes) {
  EXPECT_EQ(errorFor([](Json &j) { j["trainer"]["epochs"] = "40"; }),
            "manifest: `trainer.epochs` must be an integer, got `40`");
  EXPECT_EQ(errorFor([](Json &j) { j["trainer"]["batch"] = 1.5; }),
            "manifest: `trainer.batch` must be an integer, got `1.5`");
  EXPECT_EQ(errorFor([](Json &j) { j["data"] = 3; }), "manifest: `data` must be an object, got `3`");
  EXPECT_EQ(errorFor([](Json &j) { j["state"] = {{"a", 1}}; }), "manifest: `state` must be an array, got `{\"a\":1}`");
  EXPECT_EQ(errorFor([](Json &j) { j["data"]["path"] = 7; }), "manifest: `data.path` must be a string, got `7`");
  EXPECT_EQ(errorFor([](Json &j) { j["data"]["header"] = "no"; }), "manifest: `data.header` must be a boolean, got `no`");
  EXPECT_EQ(errorFor([](Json &j) { j["data"]["splits"]["val"] = "x"; }),
            "manifest: `data.splits.val` must be a number, got `x`");
  EXPECT_EQ(errorFor([](Json &j) { j["data"]["label"] = 1.5; }),
            "manifest: `data.label` must be a column index or name, got `1.5`");
  EXPECT_EQ(errorFor([](Json &j) { j["io"][0]["shape"] = {-1, "4"}; }),
            "manifest: `io[0].shape[1]` must be an integer, got `4`");
  // Long values are cut short in the message.
  EXPECT_EQ(errorFor([](Json &j) { j["trainer"]["epochs"] = std::string(60, 'x'); }),
            "manifest: `trainer.epochs` must be an integer, got `" + std::string(37, 'x') + "...`");
}

TEST(Manifest, BadValues) {
  EXPECT_EQ(errorFor([](Json &j) { j["abi"] = 2; }), "manifest: `abi` is 2, but this runtime reads 1");
  EXPECT_EQ(errorFor([](Json &j) { j["trainer"]["epochs"] = 0; }), "manifest: `trainer.epochs` must be >= 1, got `0`");
  EXPECT_EQ(errorFor([](Json &j) { j["classes"] = 1; }), "manifest: `classes` must be >= 2, got `1`");
  EXPECT_EQ(errorFor([](Json &j) { j["data"]["kind"] = "xls"; }),
            "manifest: `data.kind` must be one of `csv`, `idx`, `npy`, `tokens`, `text`, got `xls`");
  EXPECT_EQ(errorFor([](Json &j) { j["task"] = "ranking"; }),
            "manifest: `task` must be one of `classification`, `regression`, got `ranking`");
  EXPECT_EQ(errorFor([](Json &j) { j["data"]["normalize"] = "zscore"; }),
            "manifest: `data.normalize` must be one of `none`, `minmax`, `standard`, got `zscore`");
  EXPECT_EQ(errorFor([](Json &j) { j["data"]["delimiter"] = ";;"; }),
            "manifest: `data.delimiter` must be one character, got `;;`");
  EXPECT_EQ(errorFor([](Json &j) { j["data"]["features"]["range"] = {4, 4}; }),
            "manifest: `data.features.range` is empty: [4, 4)");
  EXPECT_EQ(errorFor([](Json &j) { j["data"]["features"]["range"] = {1}; }),
            "manifest: `data.features.range` must be a pair [begin, end], got `[1]`");
  EXPECT_EQ(errorFor([](Json &j) { j["data"]["splits"]["holdout"] = 0.1; }),
            "manifest: `data.splits` has an unknown split `holdout` (expected `train`, `val`, `test`)");
  EXPECT_EQ(errorFor([](Json &j) { j["data"]["splits"]["val"] = 1.5; }),
            "manifest: `data.splits.val` must be in [0, 1], got `1.5`");
  EXPECT_EQ(errorFor([](Json &j) { j["data"]["label_dtype"] = "f32"; }),
            "manifest: `data.label_dtype` is `f32` but the task is classification");
  EXPECT_EQ(errorFor([](Json &j) {
              j["data"] = {{"kind", "idx"},      {"images", "/i"},          {"labels", "/l"},
                           {"test_images", "/x"}, {"splits", {{"train", 1}}}, {"feature_shape", {4}},
                           {"label_dtype", "i64"}};
            }),
            "manifest: `data.test_images` needs `data.test_labels`");
  EXPECT_EQ(errorFor([](Json &j) { j["io"][3]["shape"] = {3, -1}; }),
            "manifest: `io[3].shape[1]` must be >= 0, got `-1`");
  EXPECT_EQ(errorFor([](Json &j) { j["io"][3]["slot"] = 2; }), "manifest: `io[3].slot` 2 is used twice");
  EXPECT_EQ(errorFor([](Json &j) { j["io"][3]["name"] = "loss"; }), "manifest: `io[3].name` `loss` is used twice");
  EXPECT_EQ(errorFor([](Json &j) { j["io"][3]["dtype"] = "f16"; }),
            "manifest: `io[3].dtype` must be one of `f32`, `i64`, got `f16`");
  EXPECT_EQ(errorFor([](Json &j) { j["state"][2]["offset"] = 68; }),
            "manifest: `state[2]` (`scale`) does not fit in `state_bytes` 80");
  EXPECT_EQ(errorFor([](Json &j) { j["state"][2]["shape"] = {int64_t(1) << 40, int64_t(1) << 40}; }),
            "manifest: `state[2]` (`scale`) does not fit in `state_bytes` 80");
  EXPECT_EQ(errorFor([](Json &j) { j["io"][3]["shape"] = {-1, int64_t(1) << 40, 2}; }),
            "manifest: `io[3].shape` is too large");
  EXPECT_EQ(errorFor([](Json &j) { j["state"][2]["offset"] = 66; }),
            "manifest: `state[2].offset` 66 is not a multiple of 4");
  EXPECT_EQ(errorFor([](Json &j) { j["state"][0]["init"] = "normal"; }),
            "manifest: `state[0].init` must be one of `zeros`, `ones`, `uniform`, got `normal`");
  EXPECT_EQ(errorFor([](Json &j) { j["state"][0]["bound"] = -1; }),
            "manifest: `state[0].bound` must be finite and >= 0, got `-1`");
  EXPECT_EQ(errorFor([](Json &j) { j["hparams"][1]["slot"] = 0; }), "manifest: `hparams[1].slot` 0 is used twice");
  EXPECT_EQ(errorFor([](Json &j) { j["hparams"][2]["key"] = "epoch"; }),
            "manifest: `hparams[2]` is an unknown counter `epoch` (expected `step` or `total_steps`)");
  EXPECT_EQ(errorFor([](Json &j) { j["schema"][0]["hparam"] = 2; }),
            "manifest: `schema[0].hparam` names slot 2, which no non-counter `hparams` entry has");
  EXPECT_EQ(errorFor([](Json &j) { j["schema"][1]["key"] = "optimizer.lr"; }),
            "manifest: `schema[1]` repeats the key `optimizer.lr`");
  EXPECT_EQ(errorFor([](Json &j) { j["schema"][6]["values"] = Json::array(); }),
            "manifest: `schema[6].values` is empty");
  EXPECT_EQ(errorFor([](Json &j) { j["schema"][0]["type"] = "double"; }),
            "manifest: `schema[0].type` must be one of `int`, `float`, `bool`, `string`, `enum`, `metric`, `interval`, `template`, got `double`");
  EXPECT_EQ(errorFor([](Json &j) { j["metrics"][0]["k"] = 0; }), "manifest: `metrics[0].k` must be >= 1, got `0`");
}

TEST(Manifest, NotJson) {
  try {
    parseManifest("{\"abi\": 1,");
    FAIL() << "no error";
  } catch (const Error &e) {
    EXPECT_EQ(std::string(e.what()), "manifest: invalid JSON at byte 11");
  }
  try {
    parseManifest("[1, 2]");
    FAIL() << "no error";
  } catch (const Error &e) {
    EXPECT_EQ(std::string(e.what()), "manifest: the top level must be an object");
  }
}

TEST(Manifest, UnknownKeysAreIgnored) {
  Json j = sampleManifest();
  j["future_field"] = {1, 2, 3};
  j["data"]["compression"] = "zstd";
  EXPECT_NO_THROW(parseManifest(j.dump()));
}
