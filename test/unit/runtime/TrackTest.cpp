// The tracking sinks: exact file contents, the resume rule, the console's
// lines and bar, CRC-32C, the Tracker's isolation of a failing sink, and
// the TensorBoard and MLflow output read back by the formats' own readers
// (test/tools/read_tracking.py).
#include "src/FileIO.h"
#include "src/track/Sink.h"

#include "TestDir.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>

namespace mlcrt::track {
namespace {

namespace fs = std::filesystem;

class TrackTest : public mlcrt::test::TempDirTest {
protected:
  RunInfo info(bool resumed = false, int64_t resumeStep = 0) const {
    RunInfo r;
    r.project = "MLP-digits";
    r.run = "hidden=256-bs64";
    r.mode = "fit";
    r.experiment = "Digits";
    r.runId = "0123456789abcdef0123456789abcdef";
    r.startMs = 1700000000000;
    r.config = {{"model.hidden", "256"}, {"trainer.batch", "64"}, {"optimizer.lr", "0.001"}};
    r.runDir = dir_ / "runs" / "hidden=256-bs64";
    r.mlflowRoot = dir_ / "mlruns";
    r.resumed = resumed;
    r.resumeStep = resumeStep;
    r.totalSteps = 30;
    r.epochs = 3;
    return r;
  }

  static std::string read(const fs::path &p) { return readFileIfExists(p); }
};

TEST_F(TrackTest, JsonlOneObjectPerCall) {
  auto sink = makeJsonlSink();
  sink->start(info());
  sink->metrics(10, 1, {{"train.loss", 0.5}, {"val.accuracy", 0.9722}}, 1700000001000);
  sink->metrics(20, 2, {{"train.loss", 0.25}}, 1700000002000);
  sink->finish({"early_stop", "val.loss did not improve for 2 epochs", {{"val.accuracy", 0.97}}, "best.bin", 1.5});
  fs::path d = info().runDir;
  EXPECT_EQ(read(d / "metrics.jsonl"),
            "{\"step\":10,\"epoch\":1,\"time_ms\":1700000001000,\"mode\":\"fit\",\"train.loss\":0.5,"
            "\"val.accuracy\":0.9722}\n"
            "{\"step\":20,\"epoch\":2,\"time_ms\":1700000002000,\"mode\":\"fit\",\"train.loss\":0.25}\n");
  std::string config = read(d / "config.json");
  EXPECT_NE(config.find("\"run_id\": \"0123456789abcdef0123456789abcdef\""), std::string::npos) << config;
  EXPECT_NE(config.find("\"model.hidden\": \"256\""), std::string::npos) << config;
  EXPECT_EQ(read(d / "summary.json"), "{\n"
                                      "  \"status\": \"early_stop\",\n"
                                      "  \"reason\": \"val.loss did not improve for 2 epochs\",\n"
                                      "  \"final\": {\n"
                                      "    \"val.accuracy\": 0.97\n"
                                      "  },\n"
                                      "  \"checkpoint\": \"best.bin\",\n"
                                      "  \"seconds\": 1.5\n"
                                      "}\n");
}

TEST_F(TrackTest, JsonlResumeDropsLinesAfterTheCheckpoint) {
  fs::path d = info().runDir;
  fs::create_directories(d);
  std::ofstream(d / "metrics.jsonl") << "{\"step\":10,\"epoch\":1,\"time_ms\":1,\"mode\":\"fit\",\"train.loss\":0.5}\n"
                                     << "{\"step\":20,\"epoch\":2,\"time_ms\":2,\"mode\":\"fit\",\"train.loss\":0.4}\n"
                                     << "{\"step\":30,\"epoch\":3,\"time_ms\":3,\"mode\":\"fit\",\"train.loss\":0.3}\n"
                                     << "{\"step\":40,\"ep";  // killed mid-write
  auto sink = makeJsonlSink();
  sink->start(info(true, 20));
  sink->metrics(30, 3, {{"train.loss", 0.35}}, 4);
  EXPECT_EQ(read(d / "metrics.jsonl"),
            "{\"step\":10,\"epoch\":1,\"time_ms\":1,\"mode\":\"fit\",\"train.loss\":0.5}\n"
            "{\"step\":20,\"epoch\":2,\"time_ms\":2,\"mode\":\"fit\",\"train.loss\":0.4}\n"
            "{\"step\":30,\"epoch\":3,\"time_ms\":4,\"mode\":\"fit\",\"train.loss\":0.35}\n");
}

TEST_F(TrackTest, CsvHeaderFixedAtFirstCall) {
  auto sink = makeCsvSink();
  sink->start(info());
  sink->metrics(10, 1, {{"train.loss", 0.5}, {"val.accuracy", 0.9722}}, 1000);
  sink->metrics(20, 2, {{"val.accuracy", 0.98}, {"train.loss", 1e-05}}, 2000);
  sink->metrics(20, 0, {{"test.accuracy", 0.97}}, 3000);  // not a column: in metrics.jsonl only
  EXPECT_EQ(read(info().runDir / "metrics.csv"), "step,epoch,time_ms,train.loss,val.accuracy\n"
                                                 "10,1,1000,0.5,0.9722\n"
                                                 "20,2,2000,1e-05,0.98\n"
                                                 "20,0,3000,,\n");
}

TEST_F(TrackTest, CsvResumeKeepsHeaderAndRowsThroughTheCheckpoint) {
  fs::path d = info().runDir;
  fs::create_directories(d);
  std::ofstream(d / "metrics.csv") << "step,epoch,time_ms,train.loss,\"odd,name\"\n10,1,1,0.5,1\n20,2,2,0.4,2\n"
                                   << "30,3,3,0.3,3\n40,4";
  auto sink = makeCsvSink();
  sink->start(info(true, 20));
  sink->metrics(30, 3, {{"odd,name", 7}, {"train.loss", 0.25}}, 9);
  EXPECT_EQ(read(d / "metrics.csv"),
            "step,epoch,time_ms,train.loss,\"odd,name\"\n10,1,1,0.5,1\n20,2,2,0.4,2\n30,3,9,0.25,7\n");
}

TEST_F(TrackTest, ConsolePlainLinesEveryNEpochs) {
  std::ostringstream out;
  auto sink = makeConsoleSink(out, false, 2);
  RunInfo r = info();
  r.epochs = 5;
  sink->start(r);
  sink->progress({1, 5, 1, 10, 1, 50, 0.5, 1000, 0.1});  // no bar off a terminal
  for (int64_t e = 1; e <= 5; ++e) sink->metrics(e * 10, e, {{"train.loss", 0.5123}, {"val.accuracy", 0.97216}}, 0);
  sink->metrics(50, 0, {{"test.accuracy", 0.9}}, 0);  // test results: the caller's final line
  sink->finish({"early_stop", "val.loss did not improve for 2 epochs", {}, "", 1});
  std::regex expected("epoch 2/5 train\\.loss=0\\.5123 val\\.accuracy=0\\.9722 \\(\\d+\\.\\d\\d s\\)\n"
                      "epoch 4/5 train\\.loss=0\\.5123 val\\.accuracy=0\\.9722 \\(\\d+\\.\\d\\d s\\)\n"
                      "epoch 5/5 train\\.loss=0\\.5123 val\\.accuracy=0\\.9722 \\(\\d+\\.\\d\\d s\\)\n"
                      "stopped early: val\\.loss did not improve for 2 epochs\n");
  EXPECT_TRUE(std::regex_match(out.str(), expected)) << out.str();
}

TEST_F(TrackTest, ConsoleBarOnATerminal) {
  std::ostringstream out;
  auto sink = makeConsoleSink(out, true, 1);
  RunInfo r = info();
  r.epochs = 20;
  sink->start(r);
  // 100 steps in 10 s, 600 to go: a minute.
  sink->progress({3, 20, 120, 468, 100, 700, 0.34121, 45213, 10});
  EXPECT_EQ(out.str(), "\repoch 3/20 [#####...............] 120/468 loss 0.3412 45.2k samples/s ETA 1:00\033[K");
  out.str("");
  sink->progress({3, 20, 121, 468, 101, 700, 0.3, 45213, 10.1});  // within 0.1 s of the last draw
  EXPECT_EQ(out.str(), "");
  sink->progress({3, 20, 468, 468, 120, 700, 0.3, 1.5e6, 4000});  // an epoch's last batch always draws
  EXPECT_EQ(out.str(), "\repoch 3/20 [####################] 468/468 loss 0.3000 1.5M samples/s ETA 5:22:13\033[K");
  out.str("");
  sink->metrics(120, 3, {{"train.loss", 0.3}}, 0);
  EXPECT_TRUE(std::regex_match(out.str(), std::regex("\r\033\\[Kepoch 3/20 train\\.loss=0\\.3000 \\(\\d+\\.\\d\\d s\\)\n")))
      << out.str();
}

TEST_F(TrackTest, Crc32cKnownVectors) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(crc32c(""), 0u);
  EXPECT_EQ(crc32c(std::string(32, '\0')), 0x8A9136AAu);    // RFC 3720, B.4
  EXPECT_EQ(crc32c(std::string(32, '\xff')), 0x62A8AB43u);  // RFC 3720, B.4
}

struct Recording : Sink {
  std::vector<std::string> *calls;
  explicit Recording(std::vector<std::string> *c) : calls(c) {}
  void start(const RunInfo &) override { calls->push_back("start"); }
  void metrics(int64_t step, int64_t, const Metrics &, int64_t timeMs) override {
    calls->push_back("metrics " + std::to_string(step) + (timeMs > 1600000000000 ? " now" : " stale"));
  }
  void finish(const Outcome &o) override { calls->push_back("finish " + o.status); }
};

struct Failing : Sink {
  int *calls;
  explicit Failing(int *c) : calls(c) {}
  void metrics(int64_t, int64_t, const Metrics &, int64_t) override {
    ++*calls;
    throw std::runtime_error("cannot write `metrics.csv`: No space left on device");
  }
};

TEST_F(TrackTest, TrackerSkipsAFailingSink) {
  std::ostringstream warnings;
  std::vector<std::string> calls;
  int failures = 0;
  Tracker t(warnings);
  t.add("csv", std::make_unique<Failing>(&failures));
  t.add("rec", std::make_unique<Recording>(&calls));
  t.start(info());
  t.metrics(10, 1, {{"train.loss", 1}});
  t.metrics(20, 2, {{"train.loss", 1}});
  t.finish({"finished", "", {}, "", 1});
  EXPECT_EQ(warnings.str(), "warning: tracking sink `csv` failed: cannot write `metrics.csv`: No space left on device\n");
  EXPECT_EQ(failures, 1);
  EXPECT_EQ(calls, (std::vector<std::string>{"start", "metrics 10 now", "metrics 20 now", "finish finished"}));
}

TEST_F(TrackTest, MlflowExperimentsAndResume) {
  fs::path root = info().mlflowRoot;
  // An experiment MLflow itself made, its name a plain scalar.
  fs::create_directories(root / "7");
  std::ofstream(root / "7" / "meta.yaml") << "artifact_location: file:///x/7\ncreation_time: 1\nexperiment_id: '7'\n"
                                             "last_update_time: 1\nlifecycle_stage: active\nname: Other's\n";
  RunInfo r = info();
  r.project = "Other's";
  auto a = makeMlflowSink();
  a->start(r);
  EXPECT_TRUE(fs::is_directory(root / "7" / r.runId));
  EXPECT_EQ(read(root / "0" / "meta.yaml").find("name: 'Default'\n") != std::string::npos, true);

  auto b = makeMlflowSink();
  b->start(info());  // a new project: the next free id
  fs::path run = root / "8" / info().runId;
  EXPECT_EQ(read(root / "8" / "meta.yaml").substr(read(root / "8" / "meta.yaml").find("name:")), "name: 'MLP-digits'\n");
  b->metrics(10, 1, {{"train.loss", 0.5}}, 1000);
  b->metrics(20, 2, {{"train.loss", 0.25}}, 2000);
  b->metrics(30, 3, {{"train.loss", 0.125}}, 3000);
  b->finish({"killed", "", {}, "", 1});
  EXPECT_NE(read(run / "meta.yaml").find("status: 5\n"), std::string::npos);
  EXPECT_EQ(read(run / "params" / "optimizer.lr"), "0.001");
  EXPECT_EQ(read(run / "tags" / "mlflow.runName"), "hidden=256-bs64");

  auto c = makeMlflowSink();
  RunInfo resumed = info(true, 20);
  resumed.startMs = 1800000000000;
  c->start(resumed);
  std::string meta = read(run / "meta.yaml");
  EXPECT_NE(meta.find("status: 1\n"), std::string::npos);
  EXPECT_NE(meta.find("end_time: null\n"), std::string::npos) << meta;
  EXPECT_NE(meta.find("start_time: 1700000000000\n"), std::string::npos) << meta;  // the first start
  c->metrics(30, 3, {{"train.loss", 0.2}}, 4000);
  EXPECT_EQ(read(run / "metrics" / "train.loss"), "1000 0.5 10\n2000 0.25 20\n4000 0.2 30\n");
  EXPECT_FALSE(fs::exists(root / "9"));
}

#ifndef MLC_PYTHON
#define MLC_PYTHON "python3"
#endif

TEST_F(TrackTest, ReadersReadWhatTheSinksWrote) {
  Tracker t;
  t.add("tensorboard", makeTensorBoardSink());
  t.add("mlflow", makeMlflowSink());
  t.start(info());
  t.metrics(10, 1, {{"train.loss", 0.5123}, {"val.accuracy", 0.9}});
  t.metrics(20, 2, {{"train.loss", 0.25}, {"val.accuracy", 0.95}});
  t.metrics(20, 0, {{"test.accuracy", 0.875}});
  t.finish({"finished", "", {{"test.accuracy", 0.875}}, "", 2});

  fs::path script = fs::path(MLC_TEST_TOOLS) / "read_tracking.py";
  std::string command = std::string(MLC_PYTHON) + " '" + script.string() + "' '" + info().runDir.string() + "' '" +
                        info().mlflowRoot.string() + "' 2>&1";
  FILE *p = ::popen(command.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, p)) > 0;) out.append(buffer, n);
  int status = ::pclose(p);
  EXPECT_EQ(status, 0) << out;
  EXPECT_EQ(out, "tensorboard file_version brain.Event:2\n"
                 "tensorboard 10 train.loss 0.5123\n"
                 "tensorboard 10 val.accuracy 0.9\n"
                 "tensorboard 20 train.loss 0.25\n"
                 "tensorboard 20 val.accuracy 0.95\n"
                 "tensorboard 20 test.accuracy 0.875\n"
                 "mlflow experiment 0 Default\n"
                 "mlflow experiment 1 MLP-digits\n"
                 "mlflow run hidden=256-bs64 FINISHED params=3 mode=fit\n"
                 "mlflow metric test.accuracy 0.875 step=20 points=1\n"
                 "mlflow metric train.loss 0.25 step=20 points=2\n"
                 "mlflow metric val.accuracy 0.95 step=20 points=2\n");
}

}  // namespace
}  // namespace mlcrt::track
