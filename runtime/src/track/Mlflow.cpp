// An MLflow FileStore (what `mlflow ui --backend-store-uri <root>` reads):
//   <root>/<experiment id>/meta.yaml
//   <root>/<experiment id>/<run id>/meta.yaml, metrics/<key>, params/<key>, tags/<key>, artifacts/
// as mlflow/store/tracking/file_store.py writes it. A metric file holds a
// line `<timestamp ms> <value> <step>` per logged value.
#include "src/track/Files.h"
#include "src/track/Sink.h"

#include "src/Manifest.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>

namespace mlcrt::track {

namespace {

namespace fs = std::filesystem;

// MLflow's limits on a param (mlflow/utils/validation.py).
constexpr size_t kMaxKey = 250, kMaxParamValue = 6000;

// The meta.yaml files are a handful of scalars, so they are written and read
// here rather than through a YAML library. Strings are quoted as YAML needs:
// single quotes (a quote doubled), double quotes with escapes where there
// are control characters, which single quotes cannot hold.
std::string yamlString(std::string_view s) {
  bool control = false;
  for (unsigned char c : s) control |= c < 0x20 || c == 0x7f;
  std::string out;
  if (!control) {
    out = "'";
    for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
  }
  out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') out += {'\\', char(c)};
    else if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20 || c == 0x7f) out += fmt::format("\\x{:02x}", c);
    else out += char(c);
  }
  return out + "\"";
}

std::string unquote(std::string v) {
  if (v.size() >= 2 && v.front() == '\'' && v.back() == '\'') {
    std::string out;
    for (size_t i = 1; i + 1 < v.size(); ++i) {
      out += v[i];
      if (v[i] == '\'' && v[i + 1] == '\'') ++i;
    }
    return out;
  }
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
    std::string out;
    for (size_t i = 1; i + 1 < v.size(); ++i) {
      if (v[i] != '\\' || i + 2 >= v.size()) {
        out += v[i];
        continue;
      }
      char e = v[++i];
      if (e == 'n') out += '\n';
      else if (e == 't') out += '\t';
      else if (e == 'x' && i + 2 < v.size() - 1) {
        out += char(std::stoi(v.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else out += e;
    }
    return out;
  }
  return v;
}

/// The scalar under top-level `key` in a meta.yaml, MLflow's (PyYAML folds
/// a long scalar onto indented lines) or ours; "" when absent.
std::string yamlField(const std::string &text, const std::string &key) {
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    if (text.compare(at, key.size() + 1, key + ":") == 0) {
      std::string value = text.substr(at + key.size() + 1, end - at - key.size() - 1);
      while (end < text.size() && end + 1 < text.size() && text[end + 1] == ' ') {
        size_t next = text.find('\n', end + 1);
        if (next == std::string::npos) next = text.size();
        value += " " + text.substr(text.find_first_not_of(' ', end + 1), next - text.find_first_not_of(' ', end + 1));
        end = next;
      }
      size_t first = value.find_first_not_of(' '), last = value.find_last_not_of(" \r");
      return first == std::string::npos ? "" : unquote(value.substr(first, last - first + 1));
    }
    at = end + 1;
  }
  return "";
}

using Fields = std::vector<std::pair<std::string, std::string>>;  // key, YAML value text, in key order

std::string yaml(const Fields &fields) {
  std::string out;
  for (const auto &[k, v] : fields) out += k + ": " + v + "\n";
  return out;
}

// `file://` and the path percent-encoded, as Python's pathlib.Path.as_uri.
std::string fileUri(const fs::path &path) {
  std::string out = "file://";
  for (unsigned char c : path.string()) {
    if (std::isalnum(c) || std::strchr("/-._~", c)) out += char(c);
    else out += fmt::format("%{:02X}", c);
  }
  return out;
}

// MLflow allows alphanumerics and `_ - . /` and space in a key; `/` would
// make a subdirectory, so it goes with the rest.
std::string safeKey(std::string_view key) {
  std::string out;
  for (unsigned char c : key) out += std::isalnum(c) || std::strchr("_-. ", c) ? char(c) : '_';
  if (out.empty() || out.find_first_not_of('.') == std::string::npos) out = "_" + out;
  return out.substr(0, kMaxKey);
}

std::string user() {
  if (const char *u = std::getenv("USER"); u && *u) return u;
  if (const passwd *p = ::getpwuid(::getuid())) return p->pw_name;
  return "unknown";
}

std::string executable() {
  std::error_code ec;
  fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? "" : p.string();
}

/// Creates the directory; false when it already exists. mkdir is atomic,
/// so of processes racing for one experiment id exactly one gets it.
bool claim(const fs::path &dir) {
  if (::mkdir(dir.c_str(), 0777) == 0) return true;
  if (errno == EEXIST) return false;
  throw Error(fmt::format("cannot create `{}`: {}", dir.string(), std::strerror(errno)));
}

void writeExperiment(const fs::path &root, const std::string &id, const std::string &name) {
  std::string t = std::to_string(unixMillis());
  writeFileAtomically(root / id / "meta.yaml", yaml({{"artifact_location", yamlString(fileUri(root / id))},
                                                  {"creation_time", t},
                                                  {"experiment_id", yamlString(id)},
                                                  {"last_update_time", t},
                                                  {"lifecycle_stage", "active"},
                                                  {"name", yamlString(name)}}), false);
}

bool numeric(const std::string &s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos; }

/// The id of the active experiment named `name`, created when there is none.
std::string experimentId(const fs::path &root, const std::string &name) {
  // Finding and creating under one lock, so two runs of a new project
  // starting together end up in one experiment.
  fs::path lockPath = root / ".mlc-lock";
  int lock = ::open(lockPath.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (lock < 0) throw Error(fmt::format("cannot open `{}`: {}", lockPath.string(), std::strerror(errno)));
  struct Unlock {
    int fd;
    ~Unlock() { ::close(fd); }
  } unlock{lock};
  ::flock(lock, LOCK_EX);

  uint64_t next = 1;
  for (const fs::path &parent : {root, root / ".trash"}) {
    std::error_code ec;
    for (const auto &entry : fs::directory_iterator(parent, ec)) {
      std::string id = entry.path().filename().string();
      if (!entry.is_directory() || !numeric(id) || id.size() > 18) continue;
      next = std::max<uint64_t>(next, std::stoull(id) + 1);
      if (parent != root) continue;
      std::string meta = readFileIfExists(entry.path() / "meta.yaml");
      if (yamlField(meta, "name") == name && yamlField(meta, "lifecycle_stage") != "deleted") return id;
    }
  }
  while (!claim(root / std::to_string(next))) ++next;  // ids MLflow itself took meanwhile
  writeExperiment(root, std::to_string(next), name);
  return std::to_string(next);
}

class Mlflow : public Sink {
public:
  void start(const RunInfo &info) override {
    if (info.runId.size() != 32 || info.runId.find_first_not_of("0123456789abcdef") != std::string::npos)
      throw Error(fmt::format("run id `{}` is not 32 lowercase hex digits", info.runId));
    if (info.mlflowRoot.empty()) throw Error("no `mlruns` directory to write to");
    root_ = fs::absolute(info.mlflowRoot).lexically_normal();
    makeDirectories(root_);
    makeDirectories(root_ / ".trash");
    if (claim(root_ / "0")) writeExperiment(root_, "0", "Default");  // as MLflow creates a new store
    experiment_ = experimentId(root_, info.project);
    run_ = root_ / experiment_ / info.runId;
    info_ = info;

    std::string oldMeta = readFileIfExists(run_ / "meta.yaml");
    if (!info.resumed || oldMeta.empty()) {
      std::error_code ec;
      fs::remove_all(run_ / "metrics", ec);  // a run id reused without a resume starts over
    } else if (std::string t = yamlField(oldMeta, "start_time"); numeric(t)) {
      info_.startMs = std::stoll(t);
    }
    for (const char *dir : {"metrics", "params", "tags", "artifacts"}) makeDirectories(run_ / dir);
    if (info.resumed) dropAfter(info.resumeStep);
    writeMeta(1, "null");  // RUNNING

    std::string truncated;
    for (const auto &[key, value] : info.config) {
      std::string k = safeKey(key);
      if (value.size() > kMaxParamValue) truncated += (truncated.empty() ? "" : ",") + k;
      writeFileAtomically(run_ / "params" / k, std::string_view(value).substr(0, kMaxParamValue), false);
    }
    tag("mlflow.runName", info.run);
    tag("mlflow.user", user());
    tag("mlflow.source.name", executable());
    tag("mlflow.source.type", "LOCAL");
    tag("mode", info.mode);
    tag("mlc.experiment", info.experiment);
    if (!truncated.empty())
      tag("mlc.truncated_params", fmt::format("cut to MLflow's {} characters: {}", kMaxParamValue, truncated));
  }

  void metrics(int64_t step, int64_t, const Metrics &m, int64_t timeMs) override {
    for (const auto &[name, value] : m) {
      AppendFile f;
      f.open(run_ / "metrics" / safeKey(name));
      f.write(fmt::format("{} {} {}\n", timeMs, number(value), step));
    }
  }

  void finish(const Outcome &o) override {
    int status = o.status == "failed" ? 4 : o.status == "killed" ? 5 : 3;  // FAILED, KILLED, FINISHED
    if (o.status == "early_stop") tag("mlc.stopped_early", o.reason);
    else if (!o.reason.empty()) tag("mlc.reason", o.reason);
    if (!o.checkpoint.empty()) tag("mlc.checkpoint", o.checkpoint);
    writeMeta(status, std::to_string(unixMillis()));
  }

private:
  void tag(const std::string &key, const std::string &value) { writeFileAtomically(run_ / "tags" / key, value, false); }

  // RunStatus: RUNNING 1, FINISHED 3, FAILED 4, KILLED 5.
  void writeMeta(int status, const std::string &endTime) {
    writeFileAtomically(run_ / "meta.yaml",
                    yaml({{"artifact_uri", yamlString(fileUri(run_ / "artifacts"))},
                          {"deleted_time", "null"},
                          {"end_time", endTime},
                          {"entry_point_name", "''"},
                          {"experiment_id", yamlString(experiment_)},
                          {"lifecycle_stage", "active"},
                          {"run_id", yamlString(info_.runId)},
                          {"run_name", yamlString(info_.run)},
                          {"run_uuid", yamlString(info_.runId)},
                          {"source_name", "''"},
                          {"source_type", "4"},  // LOCAL
                          {"source_version", "''"},
                          {"start_time", std::to_string(info_.startMs)},
                          {"status", std::to_string(status)},
                          {"tags", "[]"},
                          {"user_id", yamlString(user())}}), false);
  }

  // The interrupted run's values after the checkpoint are recomputed.
  void dropAfter(int64_t resumeStep) {
    std::vector<fs::path> files;  // listed first: rewriting adds temporary files to the directory
    std::error_code ec;
    for (const auto &entry : fs::directory_iterator(run_ / "metrics", ec)) files.push_back(entry.path());
    for (const fs::path &file : files) {
      std::string text = readFileIfExists(file), kept;
      for (size_t begin = 0, end; (end = text.find('\n', begin)) != std::string::npos; begin = end + 1) {
        size_t space = text.rfind(' ', end);
        if (space == std::string::npos || space < begin) continue;
        int64_t step = 0;
        auto [p, e] = std::from_chars(text.data() + space + 1, text.data() + end, step);
        if (e == std::errc() && p == text.data() + end && step <= resumeStep) kept.append(text, begin, end + 1 - begin);
      }
      writeFileAtomically(file, kept, false);
    }
  }

  fs::path root_, run_;
  std::string experiment_;
  RunInfo info_;
};

}  // namespace

std::unique_ptr<Sink> makeMlflowSink() { return std::make_unique<Mlflow>(); }

}  // namespace mlcrt::track
