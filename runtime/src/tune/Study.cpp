#include "src/tune/Study.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace mlcrt::tune {

int64_t Dim::count() const {
  if (kind == Choice) return int64_t(choices.size());
  if (kind == Int) return step > 0 ? int64_t(std::floor((high - low) / step)) + 1 : 0;
  return 0;
}

std::string Dim::text(double value) const {
  if (kind == Choice) {
    size_t i = size_t(std::clamp<double>(std::round(value), 0, double(choices.size() - 1)));
    return choices.empty() ? "" : choices[i];
  }
  if (kind == Int) return fmt::format("{}", int64_t(std::llround(value)));
  // The shortest text that reads back as the same double.
  return fmt::format("{}", value);
}

bool Space::active(const std::vector<std::optional<double>> &params, size_t i) const {
  const Dim &d = dims[i];
  if (d.parent < 0) return true;
  size_t p = size_t(d.parent);
  if (p >= params.size() || !params[p] || !active(params, p)) return false;
  std::string value = dims[p].text(*params[p]);
  return std::find(d.when.begin(), d.when.end(), value) != d.when.end();
}

const char *stateName(TrialState s) {
  switch (s) {
  case TrialState::Waiting: return "waiting";
  case TrialState::Running: return "running";
  case TrialState::Complete: return "complete";
  case TrialState::Pruned: return "pruned";
  case TrialState::Failed: return "failed";
  }
  return "unknown";
}

double Study::rankKey(double v) const {
  if (!std::isfinite(v)) return std::numeric_limits<double>::infinity();
  return minimize ? v : -v;
}

std::optional<double> Study::bestUpTo(const Trial &t, int64_t budget) const {
  std::optional<double> best;
  for (const auto &[b, v] : t.intermediate) {
    if (b > budget) break;
    if (std::isfinite(v) && (!best || better(v, *best))) best = v;
  }
  return best;
}

const Trial *Study::best() const {
  const Trial *best = nullptr;
  for (const Trial &t : trials)
    if (t.state == TrialState::Complete && t.value && std::isfinite(*t.value) &&
        (!best || better(*t.value, *best->value)))
      best = &t;
  return best;
}

}  // namespace mlcrt::tune
