// Split metrics with scikit-learn's definitions, so a number printed here can
// be checked against sklearn.metrics on the same predictions:
//  - precision/recall/f1 average over the classes that occur in the labels or
//    the predictions (sklearn's default `labels`), a 0/0 counting as 0
//    (zero_division=0);
//  - auroc is one-vs-rest on softmax probabilities, ties by average rank,
//    classes lacking positives or negatives left out;
//  - r2 averages the per-output scores (multioutput="uniform_average").
#include "src/Metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace mlcrt {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool classifying(const std::string &name) {
  return name == "accuracy" || name == "top_k_accuracy" || name == "precision" || name == "recall" || name == "f1" ||
         name == "auroc";
}
bool regressing(const std::string &name) { return name == "mse" || name == "mean_squared_error" || name == "mae" || name == "rmse" || name == "r2"; }

// Mann-Whitney U / (positives * negatives), tied scores sharing their mean
// rank. NaN when one side is empty.
double rankAuc(const std::vector<double> &scores, const std::vector<char> &positive) {
  size_t n = scores.size();
  std::vector<size_t> idx(n);
  std::iota(idx.begin(), idx.end(), size_t(0));
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  double rankSum = 0, pos = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && scores[idx[j]] == scores[idx[i]]) ++j;
    double rank = (double(i + 1) + double(j)) / 2;  // ranks i+1 .. j
    for (size_t k = i; k < j; ++k)
      if (positive[idx[k]]) {
        rankSum += rank;
        pos += 1;
      }
    i = j;
  }
  double neg = double(n) - pos;
  if (pos == 0 || neg == 0) return kNaN;
  return (rankSum - pos * (pos + 1) / 2) / (pos * neg);
}

}  // namespace

MetricSet::MetricSet(std::vector<MetricSpec> specs, int64_t classes, int64_t width)
    : specs_(std::move(specs)), classes_(classes), width_(width) {
  if (classes_ > 0 && (width_ <= 0 || width_ % classes_ != 0))
    throw Error(fmt::format("the model's output has {} values per sample, not a multiple of the {} classes",
                            width_, classes_));
  for (const MetricSpec &m : specs_) {
    if (classifying(m.name) && classes_ == 0)
      throw Error(fmt::format("metric `{}` needs class labels, but the task is regression", m.name));
    if (regressing(m.name) && classes_ > 0)
      throw Error(fmt::format("metric `{}` needs regression targets, but the task is classification", m.name));
    if (!classifying(m.name) && !regressing(m.name) && m.name != "perplexity")
      throw Error(fmt::format("unknown metric `{}`", m.name));
    if (!m.average.empty() && m.average != "micro" && m.average != "macro" && m.average != "weighted")
      throw Error(fmt::format("metric `{}`: unknown average `{}` (micro, macro or weighted)", m.name,
                              m.average));
    if (m.name == "top_k_accuracy" && m.k < 1)
      throw Error(fmt::format("metric `top_k_accuracy`: k must be at least 1, not {}", m.k));
  }
}

void MetricSet::add(const float *outputs, const int64_t *classLabels, const float *targets, int64_t n,
                    double meanLoss) {
  outputs_.insert(outputs_.end(), outputs, outputs + n * width_);
  // A classifier may predict several positions per sample (width = positions * classes).
  if (classes_ > 0) {
    int64_t labels = n * (width_ / classes_);
    for (int64_t i = 0; i < labels; ++i)
      if (classLabels[i] < 0 || classLabels[i] >= classes_)
        throw Error(fmt::format("class label {} is outside [0, {})", classLabels[i], classes_));
    classLabels_.insert(classLabels_.end(), classLabels, classLabels + labels);
  } else targets_.insert(targets_.end(), targets, targets + n * width_);
  lossSum_ += meanLoss * double(n);
  samples_ += n;
}

std::vector<std::pair<std::string, double>> MetricSet::compute() const {
  std::vector<std::pair<std::string, double>> out;
  double loss = samples_ ? lossSum_ / double(samples_) : kNaN;
  out.emplace_back("loss", loss);

  // Shared classification tallies, built once.
  size_t predictions = classLabels_.size(), c = size_t(classes_);
  std::vector<int64_t> argmax(predictions);
  std::vector<double> tp(c), predicted(c), support(c);
  for (size_t i = 0; i < predictions; ++i) {
    const float *row = outputs_.data() + i * c;
    argmax[i] = std::max_element(row, row + c) - row;  // the first of equal maxima
    size_t y = size_t(classLabels_[i]);
    predicted[size_t(argmax[i])] += 1;
    support[y] += 1;
    if (argmax[i] == classLabels_[i]) tp[y] += 1;
  }
  double correct = std::accumulate(tp.begin(), tp.end(), 0.0);
  double total = double(predictions);

  auto averaged = [&](const std::string &name, const std::string &average) {
    if (predictions == 0) return kNaN;
    if (average == "micro") return correct / total;  // single-label: micro P = R = F1 = accuracy
    double sum = 0, weights = 0;
    for (size_t k = 0; k < c; ++k) {
      if (support[k] == 0 && predicted[k] == 0) continue;
      double fp = predicted[k] - tp[k], fn = support[k] - tp[k], score;
      if (name == "precision") score = predicted[k] ? tp[k] / predicted[k] : 0;
      else if (name == "recall") score = support[k] ? tp[k] / support[k] : 0;
      else score = 2 * tp[k] / (2 * tp[k] + fp + fn);  // the class occurs, so the denominator is positive
      double w = average == "weighted" ? support[k] : 1;
      sum += score * w;
      weights += w;
    }
    return weights ? sum / weights : 0;
  };

  auto auroc = [&](const std::string &average) {
    std::vector<double> prob(predictions * c);
    for (size_t i = 0; i < predictions; ++i) {
      const float *row = outputs_.data() + i * c;
      double top = *std::max_element(row, row + c), z = 0;
      for (size_t k = 0; k < c; ++k) z += prob[i * c + k] = std::exp(double(row[k]) - top);
      for (size_t k = 0; k < c; ++k) prob[i * c + k] /= z;
    }
    if (average == "micro") {
      std::vector<char> positive(predictions * c);
      for (size_t i = 0; i < predictions; ++i) positive[i * c + size_t(classLabels_[i])] = 1;
      return rankAuc(prob, positive);
    }
    std::vector<double> scores(predictions);
    std::vector<char> positive(predictions);
    double sum = 0, weights = 0;
    for (size_t k = 0; k < c; ++k) {
      for (size_t i = 0; i < predictions; ++i) {
        scores[i] = prob[i * c + k];
        positive[i] = classLabels_[i] == int64_t(k);
      }
      double auc = rankAuc(scores, positive);
      if (std::isnan(auc)) continue;
      double w = average == "weighted" ? support[k] : 1;
      sum += auc * w;
      weights += w;
    }
    return weights ? sum / weights : kNaN;
  };

  auto topK = [&](int64_t k) {
    if (predictions == 0) return kNaN;
    double hits = 0;
    for (size_t i = 0; i < predictions; ++i) {
      const float *row = outputs_.data() + i * c;
      size_t y = size_t(classLabels_[i]);
      // The label's rank with ties broken by class index, as argmax breaks them: top-1 equals accuracy.
      int64_t ahead = 0;
      for (size_t j = 0; j < c; ++j) ahead += row[j] > row[y] || (row[j] == row[y] && j < y);
      hits += ahead < k;
    }
    return hits / total;
  };

  // Regression: per output column j, over every sample.
  size_t w = size_t(width_), rows = classes_ > 0 || w == 0 ? 0 : targets_.size() / w;
  double se = 0, ae = 0, r2 = 0;
  for (size_t j = 0; j < w && rows; ++j) {
    double mean = 0, ssRes = 0, ssTot = 0;
    for (size_t i = 0; i < rows; ++i) mean += targets_[i * w + j];
    mean /= double(rows);
    for (size_t i = 0; i < rows; ++i) {
      double y = targets_[i * w + j], d = double(outputs_[i * w + j]) - y;
      ssRes += d * d;
      ssTot += (y - mean) * (y - mean);
      ae += std::fabs(d);
    }
    se += ssRes;
    r2 += ssTot > 0 ? 1 - ssRes / ssTot : ssRes == 0 ? 1 : 0;  // sklearn's force_finite
  }
  double count = double(rows * w);

  for (const MetricSpec &m : specs_) {
    const std::string average = m.average.empty() ? "macro" : m.average;
    double v = kNaN;
    if (m.name == "accuracy") v = predictions ? correct / total : kNaN;
    else if (m.name == "top_k_accuracy") v = topK(m.k);
    else if (m.name == "precision" || m.name == "recall" || m.name == "f1") v = averaged(m.name, average);
    else if (m.name == "auroc") v = auroc(average);
    else if (m.name == "perplexity") v = std::exp(loss);
    else if (rows == 0) v = kNaN;
    else if (m.name == "mse" || m.name == "mean_squared_error") v = se / count;
    else if (m.name == "rmse") v = std::sqrt(se / count);
    else if (m.name == "mae") v = ae / count;
    else if (m.name == "r2") v = r2 / double(w);
    out.emplace_back(m.label(), v);
  }
  return out;
}

std::string formatMetrics(const Metrics &metrics) {
  std::string out;
  // Four decimals, as scripts expect; a value too large for that to be
  // readable (a diverged perplexity) in exponent form.
  for (const auto &[name, value] : metrics)
    out += std::fabs(value) < 1e9 ? fmt::format("{}{}={:.4f}", out.empty() ? "" : " ", name, value)
                                  : fmt::format("{}{}={:.4e}", out.empty() ? "" : " ", name, value);
  return out;
}

}  // namespace mlcrt
