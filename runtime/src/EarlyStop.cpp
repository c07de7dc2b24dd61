#include "src/EarlyStop.h"

#include <fmt/format.h>

#include <cmath>

namespace mlcrt {

bool improves(const std::string &mode, double value, double than, double delta) {
  return mode == "max" ? value > than + delta : value < than - delta;
}

bool EarlyStopping::better(double value, double than) const { return improves(spec_.mode, value, than, spec_.minDelta); }

std::optional<std::string> EarlyStopping::update(int64_t epoch,
                                                 const std::vector<std::pair<std::string, double>> &metrics) {
  const double *value = nullptr;
  for (const auto &[name, v] : metrics)
    if (name == spec_.monitor) value = &v;
  if (!value) return std::nullopt;  // not measured this epoch (val_every)
  double v = *value;
  const std::string &m = spec_.monitor;
  if (!std::isfinite(v)) {
    if (spec_.checkFinite) return fmt::format("`{}` is {} after epoch {}", m, v, epoch);
    return std::nullopt;
  }
  if (spec_.stopBelow && v < *spec_.stopBelow)
    return fmt::format("`{}` = {:.6g} is below `stop_below` = {:.6g} after epoch {}", m, v, *spec_.stopBelow, epoch);
  if (spec_.stopAbove && v > *spec_.stopAbove)
    return fmt::format("`{}` = {:.6g} is above `stop_above` = {:.6g} after epoch {}", m, v, *spec_.stopAbove, epoch);
  if (spec_.divergence && improves(spec_.mode, *spec_.divergence, v))
    return fmt::format("`{}` = {:.6g} diverged: worse than `divergence` = {:.6g} after epoch {}", m, v,
                       *spec_.divergence, epoch);
  if (!state_.hasBest || better(v, state_.best)) {
    state_.hasBest = true;
    state_.best = v;
    state_.bestEpoch = epoch;
    state_.wait = 0;
    return std::nullopt;
  }
  if (++state_.wait >= spec_.patience)
    return fmt::format("`{}` has not improved by more than {:g} for {} validation{} (best {:.6g} after epoch {})", m,
                       spec_.minDelta, state_.wait, state_.wait == 1 ? "" : "s", state_.best, state_.bestEpoch);
  return std::nullopt;
}

std::optional<std::string> EarlyStopping::checkLoss(int64_t step, int64_t epoch, double loss) const {
  if (!spec_.checkFinite || std::isfinite(loss)) return std::nullopt;
  return fmt::format("the train loss is {} at step {} (epoch {})", loss, step, epoch);
}

}  // namespace mlcrt
