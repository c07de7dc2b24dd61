#include "src/tune/Ensemble.h"

#include "src/Cli.h"
#include "src/Manifest.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

namespace mlcrt::tune {
namespace {

// log(sum(exp(x))) over a group, in double: a class whose probability is
// below float's smallest still counts, and no sum overflows.
double logSumExp(const float *x, int64_t n) {
  double top = *std::max_element(x, x + n), sum = 0;
  for (int64_t c = 0; c < n; ++c) sum += std::exp(double(x[c]) - top);
  return top + std::log(sum);
}

int64_t widthOf(const std::vector<float> &outputs, const Split &split) {
  if (split.size() == 0 || outputs.size() % size_t(split.size()) != 0)
    throw Error(fmt::format("ensemble: {} outputs do not divide into {} samples", outputs.size(), split.size()));
  return int64_t(outputs.size()) / split.size();
}

}  // namespace

OutputKind outputKind(const Manifest &m) {
  OutputKind kind;
  const SchemaEntry *loss = m.schemaEntry("loss");
  if (!loss) throw Error("manifest: the schema has no `loss`");
  kind.loss = loss->defaultText;
  if (const SchemaEntry *e = m.schemaEntry("loss.label_smoothing")) kind.smoothing = e->defaultNumber;
  if (const SchemaEntry *e = m.schemaEntry("loss.delta")) kind.delta = e->defaultNumber;
  static const char *const known[] = {"cross_entropy", "nll", "binary_cross_entropy", "mse", "l1", "huber"};
  if (std::find(std::begin(known), std::end(known), kind.loss) == std::end(known))
    throw Error(fmt::format("an ensemble cannot average the outputs of a model trained with `{}`", kind.loss));
  return kind;
}

std::vector<float> averageOutputs(const OutputKind &kind, const std::vector<std::vector<float>> &members, int64_t classes) {
  if (members.empty()) throw Error("ensemble: no members");
  size_t n = members.front().size();
  for (const std::vector<float> &m : members)
    if (m.size() != n) throw Error(fmt::format("ensemble: members have {} and {} outputs", n, m.size()));
  std::vector<double> sum(n, 0.0);
  const bool softmax = kind.loss == "cross_entropy" || kind.loss == "nll";
  if (softmax && (classes <= 0 || n % size_t(classes) != 0))
    throw Error(fmt::format("ensemble: {} outputs are not groups of {} class scores", n, classes));
  for (const std::vector<float> &m : members) {
    if (softmax) {
      for (size_t g = 0; g < n; g += size_t(classes)) {
        double lse = logSumExp(m.data() + g, classes);  // nll's log-probabilities sum to 1 already, up to rounding
        for (size_t c = 0; c < size_t(classes); ++c) sum[g + c] += std::exp(double(m[g + c]) - lse);
      }
    } else if (kind.loss == "binary_cross_entropy") {
      for (size_t i = 0; i < n; ++i) sum[i] += 1 / (1 + std::exp(-double(m[i])));
    } else {
      for (size_t i = 0; i < n; ++i) sum[i] += m[i];
    }
  }
  std::vector<float> out(n);
  double k = double(members.size());
  for (size_t i = 0; i < n; ++i) {
    double mean = sum[i] / k;
    if (softmax) out[i] = float(std::log(mean));
    else if (kind.loss == "binary_cross_entropy") out[i] = float(std::log(mean) - std::log1p(-mean));
    else out[i] = float(mean);
  }
  return out;
}

double lossOf(const OutputKind &kind, const std::vector<float> &outputs, const Split &split, int64_t width,
              int64_t classes) {
  const Table &t = *split.table;
  double total = 0;
  int64_t terms = 0;
  if (kind.loss == "cross_entropy" || kind.loss == "nll") {
    int64_t positions = width / classes;
    for (int64_t i = 0; i < split.size(); ++i)
      for (int64_t p = 0; p < positions; ++p) {
        const float *x = outputs.data() + i * width + p * classes;
        int64_t label = t.classes[size_t(split.rows[size_t(i)] * t.labelWidth + p)];
        // cross_entropy takes logits (log-softmax first); nll takes log-probabilities as they are.
        double lse = kind.loss == "nll" ? 0 : logSumExp(x, classes);
        double nll = lse - x[label];
        if (kind.smoothing > 0) {
          double uniform = 0;
          for (int64_t c = 0; c < classes; ++c) uniform += lse - x[c];
          nll = (1 - kind.smoothing) * nll + kind.smoothing * uniform / double(classes);
        }
        total += nll;
        ++terms;
      }
    return total / double(std::max<int64_t>(terms, 1));
  }
  for (int64_t i = 0; i < split.size(); ++i)
    for (int64_t j = 0; j < width; ++j) {
      double x = outputs[size_t(i * width + j)], y = t.targets[size_t(split.rows[size_t(i)] * t.labelWidth + j)];
      double d = x - y, a = std::abs(d);
      if (kind.loss == "binary_cross_entropy") total += std::max(x, 0.0) - x * y + std::log1p(std::exp(-std::abs(x)));
      else if (kind.loss == "mse") total += d * d;
      else if (kind.loss == "l1") total += a;
      else total += a < kind.delta ? 0.5 * d * d : kind.delta * (a - 0.5 * kind.delta);
      ++terms;
    }
  return total / double(std::max<int64_t>(terms, 1));
}

Metrics scoreOutputs(const Manifest &m, const OutputKind &kind, const std::vector<float> &outputs, const Split &split) {
  int64_t width = widthOf(outputs, split);
  int64_t classes = m.data.classLabels ? m.classes : 0;
  const Table &t = *split.table;
  std::vector<int64_t> labels;
  std::vector<float> targets;
  for (int64_t row : split.rows)
    for (int64_t j = 0; j < t.labelWidth; ++j) {
      if (m.data.classLabels) labels.push_back(t.classes[size_t(row * t.labelWidth + j)]);
      else targets.push_back(t.targets[size_t(row * t.labelWidth + j)]);
    }
  MetricSet metrics(m.metrics, classes, width);
  metrics.add(outputs.data(), m.data.classLabels ? labels.data() : nullptr, m.data.classLabels ? nullptr : targets.data(),
              split.size(), lossOf(kind, outputs, split, width, classes));
  Metrics result;
  for (auto &[metric, value] : metrics.compute()) result.emplace_back("test." + metric, value);
  return result;
}

std::string ensembleJson(const std::vector<int> &members, const Metrics &metrics) {
  nlohmann::ordered_json j = {{"members", members}};
  for (const auto &[key, value] : metrics) j[key] = value;
  return j.dump(2) + "\n";
}

std::string ensembleLine(const std::string &json) {
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("members") || !j["members"].is_array()) return "";
  std::string numbers;
  for (const auto &n : j["members"])
    if (n.is_number_integer()) numbers += (numbers.empty() ? "" : ", ") + std::to_string(n.get<int>());
  Metrics metrics;
  for (const auto &[key, value] : j.items())
    if (key != "members" && value.is_number()) metrics.emplace_back(key, value.get<double>());
  return fmt::format("trials {}: {}", numbers, formatMetrics(metrics));
}

}  // namespace mlcrt::tune
