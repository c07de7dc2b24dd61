// <runDir>/metrics.jsonl, a JSON object per line, plus config.json at the
// start and summary.json at the end: files a script reads without a library
// beyond its JSON parser.
#include "src/track/Files.h"
#include "src/track/Sink.h"

#include <nlohmann/json.hpp>

namespace mlcrt::track {

namespace {

using Json = nlohmann::ordered_json;

Json metricsObject(const Metrics &m) {
  Json o = Json::object();
  for (const auto &[name, value] : m) o[name] = value;  // NaN and infinities become null
  return o;
}

class Jsonl : public Sink {
public:
  void start(const RunInfo &info) override {
    mode_ = info.mode;
    makeDirectories(info.runDir);
    Json config = Json::object();
    for (const auto &[key, value] : info.config) config[key] = value;
    Json run = {{"project", info.project},   {"run", info.run},
                {"run_id", info.runId},      {"mode", info.mode},
                {"experiment", info.experiment}, {"start_ms", info.startMs},
                {"resumed", info.resumed},   {"resume_step", info.resumeStep},
                {"total_steps", info.totalSteps}, {"epochs", info.epochs},
                {"config", config}};
    writeFileAtomically(info.runDir / "config.json", run.dump(2) + "\n", false);

    std::filesystem::path path = info.runDir / "metrics.jsonl";
    if (info.resumed) {
      // The interrupted run's lines after the checkpoint are about to be
      // recomputed; a torn last line (a kill mid-write) goes too.
      std::string kept, text = readFileIfExists(path);
      size_t begin = 0;
      while (begin < text.size()) {
        size_t end = text.find('\n', begin);
        if (end == std::string::npos) break;
        std::string_view line(text.data() + begin, end - begin);
        Json j = Json::parse(line, nullptr, false);
        if (j.is_object() && j.contains("step") && j["step"].is_number_integer() &&
            j["step"].get<int64_t>() <= info.resumeStep)
          kept.append(line).push_back('\n');
        begin = end + 1;
      }
      writeFileAtomically(path, kept, false);
      file_.open(path, "ab");
    } else {
      file_.open(path, "wb");
    }
    summaryPath_ = info.runDir / "summary.json";
  }

  void metrics(int64_t step, int64_t epoch, const Metrics &m, int64_t timeMs) override {
    Json line = {{"step", step}, {"epoch", epoch}, {"time_ms", timeMs}, {"mode", mode_}};
    for (const auto &[name, value] : m) line[name] = value;
    file_.write(line.dump() + "\n");
  }

  void finish(const Outcome &o) override {
    Json summary = {{"status", o.status},
                    {"reason", o.reason},
                    {"final", metricsObject(o.final)},
                    {"checkpoint", o.checkpoint},
                    {"seconds", o.seconds}};
    writeFileAtomically(summaryPath_, summary.dump(2) + "\n", false);
  }

private:
  std::string mode_;
  AppendFile file_;
  std::filesystem::path summaryPath_;
};

}  // namespace

std::unique_ptr<Sink> makeJsonlSink() { return std::make_unique<Jsonl>(); }

}  // namespace mlcrt::track
