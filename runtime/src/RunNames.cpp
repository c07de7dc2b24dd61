#include "src/RunNames.h"

#include "src/Cli.h"

#include <fmt/format.h>

namespace mlcrt {

namespace {

std::string intParams(const Manifest &m) {
  std::string out;
  for (const std::string &key : m.namingParams) {
    const ConfigEntry *e = m.configEntry(key);
    if (!e) continue;
    std::string name = key.rfind("model.", 0) == 0 ? key.substr(6) : key;
    out += fmt::format("{}{}={}", out.empty() ? "" : "-", name, e->text);
  }
  return out;
}

std::string lookup(const Manifest &m, const std::string &name, bool &found) {
  found = true;
  if (name == "model.int_params") return intParams(m);
  if (name == "trial") {
    const ConfigEntry *e = m.configEntry("trial");  // set in a study's trial
    return e ? e->text : "0";
  }
  std::string key = name;
  for (const auto &[alias, target] : m.aliases)
    if (alias == name) key = target;
  if (const ConfigEntry *e = m.configEntry(key)) return e->text;
  found = false;
  return "";
}

// A value becomes part of a file name: path separators and control
// characters would put it somewhere else, so they are replaced.
std::string pathSafe(std::string s) {
  for (char &c : s)
    if (c == '/' || c == '\\' || static_cast<unsigned char>(c) < 0x20) c = '_';
  return s;
}

// `{model.int_params}` of a model without integer parameters leaves a
// separator dangling (`-bs64`): tidy each path segment.
std::string tidy(const std::string &s) {
  std::string out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find('/', start);
    std::string seg = s.substr(start, end == std::string::npos ? std::string::npos : end - start);
    while (!seg.empty() && (seg.front() == '-' || seg.front() == '_')) seg.erase(seg.begin());
    while (!seg.empty() && (seg.back() == '-' || seg.back() == '_')) seg.pop_back();
    for (size_t i; (i = seg.find("--")) != std::string::npos;) seg.erase(i, 1);
    if (seg == "." || seg == "..") seg = "_";
    if (!seg.empty()) out += (out.empty() ? "" : "/") + seg;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out.empty() ? "run" : out;
}

}  // namespace

std::string resolveTemplate(const Manifest &m, const std::string &text, const std::string &what) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {
      out.push_back(c);
      ++i;
      continue;
    }
    if (c == '}') throw UsageError(fmt::format("`{}`: `}}` without `{{` in `{}` (write `}}}}` for a brace)", what, text));
    if (c != '{') {
      out.push_back(c);
      continue;
    }
    size_t close = text.find('}', i);
    if (close == std::string::npos) throw UsageError(fmt::format("`{}`: unterminated `{{` in `{}`", what, text));
    std::string name = text.substr(i + 1, close - i - 1);
    bool found = false;
    std::string value = lookup(m, name, found);
    if (!found) {
      std::vector<std::string> names = {"model.int_params", "trial"};
      for (const auto &[alias, target] : m.aliases) names.push_back(alias);
      for (const ConfigEntry &e : m.config) names.push_back(e.key);
      std::string best = closestMatch(name, names);
      throw UsageError(fmt::format("`{}`: unknown field `{}` in `{}`{}", what, name, text,
                                   best.empty() ? "" : fmt::format(", did you mean `{}`?", best)));
    }
    out += pathSafe(value);
    i = close;
  }
  return out;
}

RunPaths runPaths(const Manifest &m, const std::filesystem::path &root, const std::string &mode) {
  RunPaths p;
  p.project = tidy(resolveTemplate(m, m.track.project, "track.project"));
  p.run = tidy(resolveTemplate(m, m.track.run, "track.run"));
  std::string dir = tidy(resolveTemplate(m, m.checkpoint.dir, "checkpoint.dir"));
  p.trainDir = root / "train" / dir;
  p.testDir = root / "test" / dir;
  p.trackDir = root / tidy(m.track.dir) / p.project / p.run / mode;
  std::string uri = "mlruns";
  for (const SinkSpec &s : m.track.sinks)
    if (s.kind == "mlflow") uri = s.uri;
  if (uri.rfind("file://", 0) == 0) uri = uri.substr(7);
  p.mlflowRoot = std::filesystem::path(uri).is_absolute() ? std::filesystem::path(uri) : root / uri;
  return p;
}

bool decidesTrajectory(const std::string &key) {
  for (const char *prefix : {"track.", "checkpoint.", "early_stop.", "sweep."})
    if (key.rfind(prefix, 0) == 0) return false;
  // `trial` (a study's trial number) names a run; it does not train it.
  return key != "track" && key != "checkpoint" && key != "early_stop" && key != "sweep" && key != "trainer.val_every" &&
         key != "trial";
}

std::string configHash(const Manifest &m) {
  // FNV-1a over `key=value\n`: stable across runs and machines, which is
  // all a checkpoint's "same configuration" test needs.
  uint64_t h = 0xcbf29ce484222325ULL;
  auto add = [&](const std::string &s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 0x100000001b3ULL;
    }
  };
  for (const ConfigEntry &e : m.config)
    if (decidesTrajectory(e.key)) add(e.key + "=" + e.text + "\n");
  return fmt::format("{:016x}", h);
}

std::vector<std::string> configDifferences(const Manifest &m,
                                           const std::vector<std::pair<std::string, std::string>> &recorded) {
  std::vector<std::string> out;
  for (const ConfigEntry &e : m.config) {
    if (!decidesTrajectory(e.key)) continue;
    std::string before = "(absent)";
    for (const auto &[k, v] : recorded)
      if (k == e.key) before = v;
    if (before != e.text) out.push_back(fmt::format("`{}`: {} -> {}", e.key, before, e.text));
  }
  return out;
}

}  // namespace mlcrt
