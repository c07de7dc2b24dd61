#include "src/tune/Report.h"

#include "src/tune/Svg.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

namespace mlcrt::tune {
namespace {

using svg::Canvas;
using svg::escape;
using Points = std::vector<std::pair<double, double>>;

bool finite(const std::optional<double> &v) { return v && std::isfinite(*v); }

// A Choice and an Int take few values: show their text; floats get six
// significant digits here (the exact text is in the cell's tooltip).
std::string paramCell(const Dim &d, double v) {
  if (d.kind == Dim::Choice || d.kind == Dim::Int) return d.text(v);
  return svg::value(v);
}

std::string objectiveName(const Study &s) { return s.objective.empty() ? "objective" : s.objective; }

// The complete trials' objective share, explained by one parameter: the
// variance of the objective's mean per bin of `x`, weighted by bin size,
// over the objective's variance (a main effect, as functional ANOVA defines
// it, estimated on bins). Categorical values are their own bins; numbers go
// into quantile bins, never splitting equal values. Quantiles do not change
// under a monotone map, so log-scaled parameters bin the same in log space.
double mainEffect(std::vector<std::pair<double, double>> xy, bool categorical) {
  size_t n = xy.size();
  if (n < 2) return 0;
  double mean = 0, total = 0;
  for (const auto &p : xy) mean += p.second;
  mean /= double(n);
  for (const auto &p : xy) total += (p.second - mean) * (p.second - mean);
  if (!(total > 0)) return 0;
  std::stable_sort(xy.begin(), xy.end(), [](const auto &a, const auto &b) { return a.first < b.first; });

  std::vector<size_t> ends;  // one past each bin
  if (categorical) {
    for (size_t i = 1; i < n; ++i)
      if (xy[i].first != xy[i - 1].first) ends.push_back(i);
  } else {
    size_t bins = std::max<size_t>(1, std::min<size_t>(10, n / 3));
    for (size_t b = 1; b < bins; ++b) {
      size_t i = b * n / bins;
      while (i < n && xy[i].first == xy[i - 1].first) ++i;
      if (i < n && (ends.empty() || i > ends.back())) ends.push_back(i);
    }
  }
  ends.push_back(n);

  double between = 0;
  for (size_t begin = 0, b = 0; b < ends.size(); begin = ends[b++]) {
    double sum = 0;
    for (size_t i = begin; i < ends[b]; ++i) sum += xy[i].second;
    double binMean = sum / double(ends[b] - begin);
    between += double(ends[b] - begin) * (binMean - mean) * (binMean - mean);
  }
  return std::clamp(between / total, 0.0, 1.0);
}

}  // namespace

// Why not fANOVA on a random forest (what Optuna reports)? It needs a forest
// library, and Debian packages none for C++; its answer also depends on the
// forest's random seed. Binned main effects cost one sort per parameter,
// give the same numbers every time, and can be explained in one sentence.
// They miss interactions: a parameter that matters only jointly with
// another scores low. For a report that ranks what to look at, that is a
// fair trade.
std::vector<std::pair<std::string, double>> parameterImportance(const Study &study) {
  const auto &dims = study.space.dims;
  std::vector<std::pair<std::string, double>> importance;
  for (size_t d = 0; d < dims.size(); ++d) {
    std::vector<std::pair<double, double>> xy;
    for (const Trial &t : study.trials)
      if (t.state == TrialState::Complete && finite(t.value) && d < t.params.size() && finite(t.params[d]) &&
          study.space.active(t.params, d))
        xy.emplace_back(*t.params[d], *t.value);
    importance.emplace_back(dims[d].path, mainEffect(std::move(xy), dims[d].kind == Dim::Choice));
  }
  double sum = 0;
  for (const auto &p : importance) sum += p.second;
  if (sum > 0)
    for (auto &p : importance) p.second /= sum;
  std::stable_sort(importance.begin(), importance.end(),
                   [](const auto &a, const auto &b) { return a.second > b.second; });
  return importance;
}

namespace {

const char *const kStyle = R"(
body { margin: 24px auto; max-width: 1032px; padding: 0 16px; color: #222; background: #fff;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
h1 { font-size: 24px; margin: 0 0 2px; }
h2 { font-size: 18px; margin: 0 0 6px; padding-bottom: 4px; border-bottom: 1px solid #ddd; }
section { margin: 30px 0; }
.sub, .caption, .note { color: #555; margin: 2px 0 10px; }
.empty { color: #777; font-style: italic; padding: 18px 0; }
table.meta { border-collapse: collapse; margin-top: 12px; }
table.meta th { text-align: left; padding: 3px 18px 3px 0; color: #555; font-weight: 600; vertical-align: top;
  white-space: nowrap; }
table.meta td { padding: 3px 0; }
.scroll { overflow-x: auto; }
table.trials { border-collapse: collapse; font-size: 12.5px; width: 100%; }
table.trials th, table.trials td { padding: 4px 8px; border-bottom: 1px solid #e6e6e6; text-align: left;
  vertical-align: top; }
table.trials th { background: #f3f3f3; white-space: nowrap; }
table.trials .num { text-align: right; font-variant-numeric: tabular-nums; }
tr.error td { border-bottom-color: #e6e6e6; padding-top: 0; }
tr.has-error td { border-bottom: none; }
tr.best td { background: #fff3e0; }
.inactive { color: #aaa; }
.state { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 11.5px; }
.state.complete { background: #e3edf7; color: #1f4e79; }
.state.pruned { background: #ececec; color: #555; }
.state.failed { background: #fde2e1; color: #9b1c1c; }
.state.running { background: #e3f3e8; color: #1e6b34; }
.state.waiting { background: #f4f0dc; color: #6b5d1e; }
tr.error pre { margin: 0; white-space: pre-wrap; word-break: break-word; color: #9b1c1c;
  font: 11.5px/1.35 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
svg.plot { display: block; max-width: 100%; height: auto; }
svg.plot text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; font-size: 12px;
  fill: #333; }
svg.plot .tick { font-size: 11px; fill: #555; }
svg.plot .label { font-weight: 600; }
svg.plot .halo { paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round; }
svg.plot .frame { fill: none; stroke: #c8c8c8; }
svg.plot .grid { stroke: #ececec; }
svg.plot .axis { stroke: #8a8a8a; }
svg.plot .dot { fill: #4c78a8; }
svg.plot .pruned-mark { fill: none; stroke: #555; stroke-width: 1.6; }
svg.plot .best-line { fill: none; stroke: #f58518; stroke-width: 2; }
svg.plot .best-ring { fill: none; stroke: #e8590c; stroke-width: 2; }
svg.plot .pc { fill: none; stroke-width: 1.5; stroke-opacity: .85; }
svg.plot .bar { fill: #4c78a8; }
svg.plot .curve { fill: none; stroke: #4c78a8; stroke-width: 1.3; stroke-opacity: .6; }
svg.plot .curve-other { fill: none; stroke: #4c78a8; stroke-width: 1.3; stroke-dasharray: 1 3; }
svg.plot .curve-pruned { fill: none; stroke: #a0a0a0; stroke-width: 1.2; stroke-dasharray: 5 3; }
svg.plot .curve-best { fill: none; stroke: #e8590c; stroke-width: 2.8; }
* { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
@page { margin: 12mm; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 11px; }
  section.plot { break-inside: avoid; }
  .scroll { overflow: visible; }
  table.trials { font-size: 9px; }
  table.trials th, table.trials td { padding: 2px 4px; }
  table.trials th { white-space: normal; }
  table.trials tr { break-inside: avoid; }
}
)";

std::string emptyNote(std::string_view why) { return fmt::format("<p class=\"empty\">{}</p>\n", escape(why)); }

std::string trialList(const std::vector<int> &numbers) {
  std::string s;
  for (int n : numbers) s += (s.empty() ? "#" : ", #") + std::to_string(n);
  return s;
}

// ---- optimisation history ----

std::string historyPlot(const Study &s) {
  std::vector<double> ys;
  std::vector<int> failed, nonFinite;
  int last = 1;
  for (const Trial &t : s.trials) {
    last = std::max(last, t.number);
    if (t.state == TrialState::Failed) failed.push_back(t.number);
    else if (t.state == TrialState::Complete || t.state == TrialState::Pruned) {
      if (finite(t.value)) ys.push_back(*t.value);
      else nonFinite.push_back(t.number);
    }
  }
  std::string notes;
  if (!failed.empty()) notes += fmt::format("<p class=\"note\">Failed, not plotted: {}.</p>\n", trialList(failed));
  if (!nonFinite.empty())
    notes += fmt::format("<p class=\"note\">No finite objective value, not plotted: {}.</p>\n", trialList(nonFinite));
  if (ys.empty()) return emptyNote("No complete or pruned trial has a finite objective value yet.") + notes;

  const double W = 1000, H = 360, L = 84, R = 24, T = 40, B = 56;
  svg::Scale x = svg::fit({0, double(last)}, false, L + 10, W - R - 10, true);
  svg::Scale y = svg::fit(ys, svg::wantsLog(ys), H - B - 10, T + 10, true);
  std::string name = objectiveName(s);
  Canvas c(W, H, fmt::format("Optimisation history: {} by trial number", name));
  c.rect(L, T, W - L - R, H - T - B, "frame");
  c.yAxis(y, L, W - R, name + (y.log ? " (log scale)" : ""));
  c.xAxis(x, H - B, "trial number", 1);

  c.raw("<g class=\"marks\">\n");
  Points bestSoFar;
  std::optional<double> best;
  for (const Trial &t : s.trials) {
    if (t.state != TrialState::Complete || !finite(t.value) || (best && !s.better(*t.value, *best))) continue;
    if (best) bestSoFar.emplace_back(x(t.number), y(*best));
    bestSoFar.emplace_back(x(t.number), y(*t.value));
    best = t.value;
  }
  if (best) bestSoFar.emplace_back(x(last), y(*best));
  if (bestSoFar.size() > 1) c.polyline(bestSoFar, "best-line");
  for (const Trial &t : s.trials) {
    if (!finite(t.value)) continue;
    std::string tip = fmt::format("#{} {}: {}", t.number, stateName(t.state), svg::value(*t.value));
    if (t.state == TrialState::Pruned) c.cross(x(t.number), y(*t.value), 4, "pruned-mark", tip);
    else if (t.state == TrialState::Complete) c.circle(x(t.number), y(*t.value), 3.5, "dot", tip);
  }
  if (const Trial *b = s.best()) c.circle(x(b->number), y(*b->value), 7.5, "best-ring");
  c.raw("</g>\n");

  double lx = L;
  lx = c.legend(lx, T - 18, svg::Swatch::Dot, "dot", "complete");
  if (std::any_of(s.trials.begin(), s.trials.end(),
                  [](const Trial &t) { return t.state == TrialState::Pruned && finite(t.value); }))
    lx = c.legend(lx, T - 18, svg::Swatch::Cross, "pruned-mark", "pruned (last reported value)");
  if (best) {
    lx = c.legend(lx, T - 18, svg::Swatch::Step, "best-line", "best so far");
    c.legend(lx, T - 18, svg::Swatch::Ring, "best-ring", "best trial");
  }
  return c.finish() + notes;
}

// ---- parallel coordinates ----

svg::Scale dimScale(const Dim &d, std::vector<double> values, double bottom, double top) {
  if (d.kind == Dim::Choice) return svg::Scale{-0.5, std::max(1.0, double(d.choices.size())) - 0.5, bottom, top};
  values.push_back(d.low);
  values.push_back(d.high);
  return svg::fit(values, d.kind == Dim::LogUniform || (d.kind == Dim::Int && d.log), bottom, top, false);
}

// A parameter's name in `chars` characters: whole if it fits, else its
// last dotted parts (`lr` says more than `optimiz…`), cut if still too long.
std::string fitName(const std::string &name, size_t chars) {
  std::string_view tail = name;
  while (tail.size() > chars && tail.find('.') != std::string_view::npos) tail.remove_prefix(tail.find('.') + 1);
  return svg::shorten(tail, chars);
}

// An axis of the parallel-coordinates plot: its line, ticks and title (the
// full name in a tooltip when it had to be cut).
void parallelAxis(Canvas &c, double x, const svg::Scale &s, const Dim *d, std::string_view name, double spacing,
                  double width, bool labelsRight) {
  double top = std::min(s.from, s.to) - 8, bottom = std::max(s.from, s.to) + 8;
  c.line(x, top, x, bottom, "axis");
  std::vector<svg::Tick> ticks;
  if (d && d->kind == Dim::Choice) {
    size_t n = d->choices.size(), stride = n > 12 ? (n + 11) / 12 : 1;
    for (size_t i = 0; i < n; i += stride) ticks.push_back({double(i), svg::shorten(d->choices[i], 14)});
  } else {
    ticks = s.ticks(5, d && d->kind == Dim::Int ? std::max(1.0, d->step) : 0);
  }
  for (const svg::Tick &t : ticks) {
    double py = s(t.value);
    c.line(labelsRight ? x : x - 4, py, labelsRight ? x + 4 : x, py, "axis");
    c.text(labelsRight ? x + 7 : x - 7, py + 4, t.label, "tick halo", labelsRight ? "start" : "end");
  }
  std::string title = fitName(std::string(name), size_t(std::max(6.0, spacing / 8.5)));
  double half = svg::textWidth(title) / 2 + 2;
  double tx = std::clamp(x, half, width - half);
  c.raw("<g><title>" + escape(name) + "</title>");
  c.text(tx, top - 22, title, "label", "middle");
  c.raw("</g>\n");
  if (s.log) c.text(tx, top - 8, "log scale", "tick", "middle");
}

std::string parallelPlot(const Study &s) {
  std::vector<const Trial *> trials;
  for (const Trial &t : s.trials)
    if (t.state == TrialState::Complete && finite(t.value)) trials.push_back(&t);
  if (trials.empty()) return emptyNote("No complete trial with a finite objective value yet.");

  const auto &dims = s.space.dims;
  const double W = 1000, H = 420, L = 90, R = 80, T = 58, B = 70;
  std::vector<double> ys;
  for (const Trial *t : trials) ys.push_back(*t->value);
  svg::Scale objective = svg::fit(ys, svg::wantsLog(ys), H - B - 8, T + 8, true);
  std::vector<svg::Scale> scales;
  for (size_t d = 0; d < dims.size(); ++d) {
    std::vector<double> values;
    for (const Trial *t : trials)
      if (d < t->params.size() && finite(t->params[d]) && s.space.active(t->params, d))
        values.push_back(*t->params[d]);
    scales.push_back(dimScale(dims[d], values, H - B - 8, T + 8));
  }
  size_t axes = dims.size() + 1;
  double spacing = axes > 1 ? (W - L - R) / double(axes - 1) : 0;
  auto axisX = [&](size_t i) { return axes > 1 ? L + double(i) * spacing : W / 2; };

  // Colour by quality over the values' own range (not the axis's rounded
  // one, which would leave the ramp's ends unused): the best trials dark,
  // and drawn last, on top.
  auto [lowest, highest] = std::minmax_element(ys.begin(), ys.end());
  double low = objective(*lowest), high = objective(*highest);
  auto quality = [&](double v) {
    double t = high != low ? std::clamp((objective(v) - low) / (high - low), 0.0, 1.0) : 0.0;
    return s.minimize ? t : 1 - t;  // 0: best
  };
  std::stable_sort(trials.begin(), trials.end(),
                   [&](const Trial *a, const Trial *b) { return quality(*a->value) > quality(*b->value); });

  std::string name = objectiveName(s);
  Canvas c(W, H, fmt::format("Parallel coordinates: {} parameters and {} of {} complete trials", dims.size(), name,
                             trials.size()));
  c.raw("<g class=\"marks\">\n");
  for (const Trial *t : trials) {
    Points points;
    for (size_t d = 0; d < dims.size(); ++d)
      if (d < t->params.size() && finite(t->params[d]) && s.space.active(t->params, d))
        points.emplace_back(axisX(d), scales[d](*t->params[d]));
    points.emplace_back(axisX(dims.size()), objective(*t->value));
    if (points.size() == 1) points.emplace_back(points[0].first - 6, points[0].second);
    c.polyline(points, "pc", svg::ramp(quality(*t->value)),
               fmt::format("#{}: {} = {}", t->number, name, svg::value(*t->value)));
  }
  c.raw("</g>\n");
  for (size_t d = 0; d < dims.size(); ++d)
    parallelAxis(c, axisX(d), scales[d], &dims[d], dims[d].path, spacing, W, false);
  parallelAxis(c, axisX(dims.size()), objective, nullptr, name, spacing, W, true);

  // The colour legend: the ramp along the objective's range.
  double lx = W / 2 - 120, ly = H - 30;
  c.text(lx - 10, ly + 9, name, "label", "end");
  if (*lowest == *highest) {  // one colour: no ramp to explain
    c.rect(lx, ly, 24, 12, "", svg::ramp(0));
    c.text(lx + 32, ly + 10, fmt::format("every trial: {}", svg::value(*lowest)), "tick");
    return c.finish();
  }
  std::string stops;
  for (int i = 0; i <= 10; ++i) {
    double f = i / 10.0;
    stops += fmt::format("<stop offset=\"{}\" stop-color=\"{}\"/>", svg::num(f), svg::ramp(s.minimize ? f : 1 - f));
  }
  c.raw("<defs><linearGradient id=\"pc-ramp\" x1=\"0\" y1=\"0\" x2=\"1\" y2=\"0\">" + stops +
        "</linearGradient></defs>\n");
  c.rect(lx, ly, 240, 12, "", "url(#pc-ramp)");
  c.text(lx, ly + 27, svg::value(*lowest, 4), "tick", "start");
  c.text(lx + 240, ly + 27, svg::value(*highest, 4), "tick", "end");
  c.text(lx + 252, ly + 9, "darker is better", "tick");
  return c.finish();
}

// ---- parameter importance ----

std::string importancePlot(const Study &s) {
  auto importance = parameterImportance(s);
  if (importance.empty()) return emptyNote("The study has no parameters.");
  if (std::count_if(s.trials.begin(), s.trials.end(), [](const Trial &t) {
        return t.state == TrialState::Complete && finite(t.value);
      }) < 2)
    return emptyNote("Fewer than two complete trials with a finite objective value: nothing to compare yet.");
  double top = 0, labelWidth = 90;
  for (const auto &[name, share] : importance) {
    top = std::max(top, share);
    labelWidth = std::max(labelWidth, svg::textWidth(svg::shorten(name, 40)) + 24);
  }
  const double W = 1000, row = 28, T = 10, B = 50, R = 70;
  double H = T + row * double(importance.size()) + B, bottom = H - B;
  svg::Scale x = svg::fit({0, top > 0 ? top * 100 : 100}, false, labelWidth, W - R, true);
  Canvas c(W, H, "Parameter importance: each parameter's share of the objective's variance");
  for (const svg::Tick &t : x.ticks(8)) c.line(x(t.value), T, x(t.value), bottom, "grid");
  c.line(x(0), T, x(0), bottom, "axis");
  c.xAxis(x, bottom, "share of the objective's variance explained (%)");
  c.raw("<g class=\"marks\">\n");
  for (size_t i = 0; i < importance.size(); ++i) {
    const auto &[name, share] = importance[i];
    double y = T + row * double(i);
    std::string percent = fmt::format("{:.1f}%", share * 100);
    c.text(labelWidth - 10, y + row / 2 + 4, svg::shorten(name, 40), "", "end");
    c.rect(x(0), y + 5, x(share * 100) - x(0), row - 10, "bar", "", fmt::format("{}: {}", name, percent));
    c.text(x(share * 100) + 6, y + row / 2 + 4, percent, "tick");
  }
  c.raw("</g>\n");
  std::string svg = c.finish();
  if (top > 0) return svg;
  return svg + "<p class=\"note\">No parameter explains any of the objective's variance yet: too few complete "
               "trials, or an objective that does not vary.</p>\n";
}

// ---- learning curves ----

std::string curvesPlot(const Study &s, const ReportInfo &info) {
  struct Curve {
    const Trial *trial;
    Points points;  // (budget, value), finite
  };
  std::vector<Curve> curves;
  std::vector<double> xs, ys;
  for (const Trial &t : s.trials) {
    Curve curve{&t, {}};
    for (const auto &[budget, v] : t.intermediate)
      if (std::isfinite(v)) {
        curve.points.emplace_back(double(budget), v);
        xs.push_back(double(budget));
        ys.push_back(v);
      }
    if (!curve.points.empty()) curves.push_back(std::move(curve));
  }
  if (curves.empty()) return emptyNote("No trial has reported an intermediate value yet.");

  const double W = 1000, H = 400, L = 84, R = 60, T = 40, B = 56;
  svg::Scale x = svg::fit(xs, false, L + 10, W - R - 10, true);
  svg::Scale y = svg::fit(ys, svg::wantsLog(ys), H - B - 10, T + 10, true);
  std::string name = objectiveName(s), unit = info.budgetUnit.empty() ? "budget" : info.budgetUnit;
  Canvas c(W, H, fmt::format("Learning curves: {} against {} for {} trials", name, unit, curves.size()));
  c.rect(L, T, W - L - R, H - T - B, "frame");
  c.yAxis(y, L, W - R, name + (y.log ? " (log scale)" : ""));
  c.xAxis(x, H - B, unit, 1);

  const Trial *best = s.best();
  auto classOf = [&](const Trial *t) {
    if (t == best) return "curve-best";
    if (t->state == TrialState::Pruned) return "curve-pruned";
    return t->state == TrialState::Complete ? "curve" : "curve-other";
  };
  // Drawn in layers: the best trial last, on top of the rest.
  auto layer = [&](const Curve &k) {
    std::string_view cls = classOf(k.trial);
    return cls == "curve-best" ? 3 : cls == "curve-pruned" ? 0 : cls == "curve" ? 1 : 2;
  };
  std::stable_sort(curves.begin(), curves.end(), [&](const Curve &a, const Curve &b) { return layer(a) < layer(b); });
  bool pruned = false, other = false;
  c.raw("<g class=\"marks\">\n");
  for (const Curve &k : curves) {
    std::string cls = classOf(k.trial);
    Points points;
    for (const auto &[b, v] : k.points) points.emplace_back(x(b), y(v));
    std::string tip = fmt::format("#{} {}", k.trial->number, stateName(k.trial->state));
    if (points.size() > 1) c.polyline(points, cls, {}, tip);
    else if (cls == "curve-best") c.circle(points[0].first, points[0].second, 4, "best-ring", tip);
    else if (cls != "curve-pruned") c.circle(points[0].first, points[0].second, 2.5, "dot", tip);
    if (cls == "curve-pruned")
      c.cross(points.back().first, points.back().second, 4, "pruned-mark", tip + " stopped here");
    if (cls == "curve-best")
      c.text(points.back().first + 6, points.back().second + 4, fmt::format("#{}", k.trial->number), "label halo");
    pruned = pruned || cls == "curve-pruned";
    other = other || cls == "curve-other";
  }
  c.raw("</g>\n");

  double lx = L;
  lx = c.legend(lx, T - 18, svg::Swatch::Line, "curve", "complete");
  if (pruned) {
    lx = c.legend(lx, T - 18, svg::Swatch::Line, "curve-pruned", "pruned");
    lx = c.legend(lx, T - 18, svg::Swatch::Cross, "pruned-mark", "where a pruned trial stopped");
  }
  if (other) lx = c.legend(lx, T - 18, svg::Swatch::Line, "curve-other", "running or failed");
  if (best && !best->intermediate.empty())
    c.legend(lx, T - 18, svg::Swatch::Line, "curve-best", fmt::format("best trial (#{})", best->number));
  return c.finish();
}

// ---- the header and the table ----

std::string paramsText(const Study &s, const Trial &t) {
  std::string out;
  for (size_t d = 0; d < s.space.dims.size() && d < t.params.size(); ++d)
    if (t.params[d] && s.space.active(t.params, d))
      out += (out.empty() ? "" : ", ") + s.space.dims[d].path + " = " + paramCell(s.space.dims[d], *t.params[d]);
  return out;
}

std::string countsText(const Study &s) {
  std::array<int, 5> n{};
  for (const Trial &t : s.trials) ++n[size_t(t.state)];
  auto count = [&](TrialState st) { return n[size_t(st)]; };
  std::string text = fmt::format("{} complete, {} pruned, {} failed, {} running", count(TrialState::Complete),
                                 count(TrialState::Pruned), count(TrialState::Failed), count(TrialState::Running));
  if (count(TrialState::Waiting) > 0) text += fmt::format(", {} waiting", count(TrialState::Waiting));
  return text + fmt::format(" ({} in all)", s.trials.size());
}

std::string header(const Study &s, const ReportInfo &info, const std::string &title) {
  auto row = [](std::string_view key, std::string_view value) {
    return fmt::format("<tr><th>{}</th><td>{}</td></tr>\n", escape(key), value);
  };
  auto orDash = [](const std::string &v) { return v.empty() ? std::string("\xE2\x80\x94") : escape(v); };
  std::string rows;
  rows += row("Objective", escape(objectiveName(s)) + (s.minimize ? ", minimize" : ", maximize"));
  rows += row("Search", orDash(info.search));
  rows += row("Pruner", orDash(info.pruner));
  rows += row("Budget unit", orDash(info.budgetUnit));
  rows += row("Trials", escape(countsText(s)));
  if (const Trial *b = s.best()) {
    std::string params = paramsText(s, *b);
    rows += row("Best trial", fmt::format("#{}: {} = {}{}", b->number, escape(objectiveName(s)),
                                          escape(svg::value(*b->value)),
                                          params.empty() ? "" : "<br/>" + escape(params)));
  } else {
    rows += row("Best trial", "none yet");
  }
  for (const auto &[key, value] : info.extra) rows += row(key, escape(value));
  std::string sub =
      s.name.empty() || s.name == title ? "" : fmt::format("<p class=\"sub\">Study {}</p>\n", escape(s.name));
  return fmt::format("<header id=\"summary\">\n<h1>{}</h1>\n{}<table class=\"meta\">\n{}</table>\n</header>\n",
                     escape(title), sub, rows);
}

bool isNumeric(const Dim &d) { return d.kind != Dim::Choice; }

// One trial's row; a failed trial's error goes in a full-width row below it,
// where a long log wraps instead of widening the table past the page.
std::string trialRows(const Study &s, const Trial &t, const Trial *best) {
  std::string cells = fmt::format("<td class=\"num\">{}</td><td><span class=\"state {}\">{}</span></td>", t.number,
                                  stateName(t.state), stateName(t.state));
  for (size_t d = 0; d < s.space.dims.size(); ++d) {
    const Dim &dim = s.space.dims[d];
    if (d < t.params.size() && t.params[d] && s.space.active(t.params, d))
      cells += fmt::format("<td{} title=\"{}\">{}</td>", isNumeric(dim) ? " class=\"num\"" : "",
                           escape(dim.text(*t.params[d])), escape(paramCell(dim, *t.params[d])));
    else
      cells += fmt::format("<td class=\"{}inactive\">\xE2\x80\x94</td>", isNumeric(dim) ? "num " : "");
  }
  cells += fmt::format("<td class=\"num\">{}</td>", t.value ? escape(svg::value(*t.value)) : "");
  cells += fmt::format("<td class=\"num\">{}</td><td class=\"num\">{}</td>", t.budget, t.attempts);
  cells += fmt::format("<td>{}</td>", escape(t.run));
  std::string cls = &t == best ? "best" : "";
  if (!t.error.empty()) cls += cls.empty() ? "has-error" : " has-error";
  std::string row = fmt::format("<tr id=\"trial-{}\"{}>{}</tr>\n", t.number,
                                cls.empty() ? "" : fmt::format(" class=\"{}\"", cls), cells);
  if (t.error.empty()) return row;
  return row + fmt::format("<tr class=\"error\"><td></td><td colspan=\"{}\"><pre>{}</pre></td></tr>\n",
                           s.space.dims.size() + 5, escape(t.error));
}

std::string trialTable(const Study &s, const ReportInfo &info) {
  std::string head = "<th class=\"num\">#</th><th>state</th>";
  for (const Dim &d : s.space.dims)
    head += fmt::format("<th{}>{}</th>", isNumeric(d) ? " class=\"num\"" : "", escape(d.path));
  head += fmt::format("<th class=\"num\">{}</th><th class=\"num\">budget ({})</th><th class=\"num\">attempts</th>"
                      "<th>run</th>",
                      escape(objectiveName(s)), escape(info.budgetUnit.empty() ? "used" : info.budgetUnit));
  std::string body;
  const Trial *best = s.best();
  for (const Trial &t : s.trials) body += trialRows(s, t, best);
  if (s.trials.empty())
    body = fmt::format("<tr><td colspan=\"{}\" class=\"empty\">No trials yet.</td></tr>\n", s.space.dims.size() + 6);
  return fmt::format("<div class=\"scroll\"><table class=\"trials\">\n<thead><tr>{}</tr></thead>\n<tbody>\n{}"
                     "</tbody>\n</table></div>\n",
                     head, body);
}

std::string section(std::string_view id, std::string_view heading, std::string_view caption, const std::string &body,
                    bool plot = true) {
  return fmt::format("<section id=\"{}\"{}>\n<h2>{}</h2>\n<p class=\"caption\">{}</p>\n{}</section>\n", id,
                     plot ? " class=\"plot\"" : "", escape(heading), escape(caption), body);
}

}  // namespace

std::string renderReport(const Study &study, const ReportInfo &info) {
  std::string title = !info.title.empty() ? info.title : !study.name.empty() ? study.name : "Study";
  std::string unit = info.budgetUnit.empty() ? "budget" : info.budgetUnit;
  std::string html = fmt::format("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
                                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
                                 "<title>{} \xE2\x80\x94 study report</title>\n<style>{}</style>\n</head>\n<body>\n",
                                 escape(title), kStyle);
  html += header(study, info, title);
  html += section("history", "Optimisation history",
                  "The objective of each trial by trial number, and the best value found so far.", historyPlot(study));
  html += section("parallel", "Parallel coordinates",
                  "One line per complete trial through its parameter values and objective; a conditional parameter "
                  "that was inactive is skipped.",
                  parallelPlot(study));
  html += section("importance", "Parameter importance",
                  "How much of the objective's variance over the complete trials each parameter explains on its own "
                  "(binned main effects; interactions are not counted).",
                  importancePlot(study));
  html += section("curves", "Learning curves",
                  fmt::format("The objective each trial reported against {}.", unit), curvesPlot(study, info));
  html += section("trials", "Trials",
                  "Every trial, in the order created; a failed trial's error is on the line below it.",
                  trialTable(study, info), false);
  return html + "</body>\n</html>\n";
}

}  // namespace mlcrt::tune
