// <runDir>/metrics.csv for spreadsheets and pandas. The columns are fixed by
// the first row, as a CSV header must be; a metric that first appears later
// (test results after fit) is in metrics.jsonl only.
#include "src/track/Files.h"
#include "src/track/Sink.h"

#include <charconv>

namespace mlcrt::track {

namespace {

std::string field(const std::string &text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + '"';
}

class Csv : public Sink {
public:
  void start(const RunInfo &info) override {
    makeDirectories(info.runDir);
    std::filesystem::path path = info.runDir / "metrics.csv";
    if (info.resumed) {
      std::string text = readFileIfExists(path), kept;
      size_t end = text.find('\n');
      if (end != std::string::npos) {
        header_ = text.substr(0, end + 1);
        kept = header_;
        // Rows after the checkpoint are recomputed; only whole lines count.
        for (size_t begin = end + 1; (end = text.find('\n', begin)) != std::string::npos; begin = end + 1) {
          int64_t step = 0;
          auto [p, ec] = std::from_chars(text.data() + begin, text.data() + end, step);
          if (ec == std::errc() && p < text.data() + end && *p == ',' && step <= info.resumeStep)
            kept.append(text, begin, end + 1 - begin);
        }
        columns_ = parseHeader(header_);
      }
      writeFileAtomically(path, kept, false);
      file_.open(path, "ab");
    } else {
      file_.open(path, "wb");
    }
  }

  void metrics(int64_t step, int64_t epoch, const Metrics &m, int64_t timeMs) override {
    std::string out;
    if (header_.empty()) {
      header_ = "step,epoch,time_ms";
      for (const auto &entry : m) {
        header_ += "," + field(entry.first);
        columns_.push_back(entry.first);
      }
      header_ += '\n';
      out = header_;
    }
    out += std::to_string(step) + "," + std::to_string(epoch) + "," + std::to_string(timeMs);
    for (const std::string &column : columns_) {
      out += ',';
      for (const auto &[name, value] : m)
        if (name == column) {
          out += number(value);
          break;
        }
    }
    file_.write(out + "\n");
  }

private:
  // The metric columns of a header this sink wrote: names after time_ms.
  static std::vector<std::string> parseHeader(const std::string &header) {
    std::vector<std::string> names;
    std::string current;
    bool quoted = false;
    for (size_t i = 0; i < header.size(); ++i) {
      char c = header[i];
      if (quoted) {
        if (c == '"' && i + 1 < header.size() && header[i + 1] == '"') current += header[++i];
        else if (c == '"') quoted = false;
        else current += c;
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',' || c == '\n') {
        names.push_back(current);
        current.clear();
      } else if (c != '\r') {
        current += c;
      }
    }
    if (names.size() <= 3) return {};
    return {names.begin() + 3, names.end()};
  }

  AppendFile file_;
  std::string header_;
  std::vector<std::string> columns_;
};

}  // namespace

std::unique_ptr<Sink> makeCsvSink() { return std::make_unique<Csv>(); }

}  // namespace mlcrt::track
