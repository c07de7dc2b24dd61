// Unit tests of MetricSet: exact values on hand-computed cases, following
// scikit-learn's definitions.
#include "src/Metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>

namespace mlcrt {
namespace {

MetricSpec metric(const std::string &name, const std::string &average = "", int64_t k = 5) {
  MetricSpec m;
  m.name = name;
  m.average = average;
  m.k = k;
  return m;
}

// Logits with a 1 at each predicted class and 0 elsewhere.
std::vector<float> oneHot(const std::vector<int64_t> &predicted, int64_t classes) {
  std::vector<float> out(predicted.size() * size_t(classes));
  for (size_t i = 0; i < predicted.size(); ++i) out[i * size_t(classes) + size_t(predicted[i])] = 1;
  return out;
}

std::vector<std::pair<std::string, double>> run(const std::vector<MetricSpec> &specs, int64_t classes,
                                                const std::vector<float> &logits, const std::vector<int64_t> &labels) {
  MetricSet m(specs, classes, classes);
  m.add(logits.data(), labels.data(), nullptr, int64_t(labels.size()), 0.5);
  auto out = m.compute();
  EXPECT_EQ(out.size(), specs.size() + 1);
  EXPECT_EQ(out[0].first, "loss");
  for (size_t i = 0; i < specs.size(); ++i) EXPECT_EQ(out[i + 1].first, specs[i].label());
  return out;
}

// labels 0 0 0 1 1 2 2 2 2 3, predictions 0 1 1 1 2 2 2 0 0 2; class 4 occurs in neither.
//   class 0: tp 1, predicted 3, support 3: P 1/3, R 1/3, F1 1/3
//   class 1: tp 1, predicted 3, support 2: P 1/3, R 1/2, F1 2/5
//   class 2: tp 2, predicted 4, support 4: P 1/2, R 1/2, F1 1/2
//   class 3: tp 0, predicted 0, support 1: P 0 (0/0), R 0, F1 0
const std::vector<int64_t> kLabels = {0, 0, 0, 1, 1, 2, 2, 2, 2, 3};
const std::vector<int64_t> kPredicted = {0, 1, 1, 1, 2, 2, 2, 0, 0, 2};

TEST(Metrics, PrecisionRecallF1OnAConfusionMatrix) {
  std::vector<MetricSpec> specs = {
      metric("accuracy"),          metric("f1", "macro"),        metric("f1", "weighted"),
      metric("f1", "micro"),       metric("precision", "macro"), metric("precision", "weighted"),
      metric("recall", "macro"),   metric("recall", "weighted"), metric("precision", "micro"),
      metric("f1")};  // no average: macro
  auto out = run(specs, 5, oneHot(kPredicted, 5), kLabels);
  EXPECT_DOUBLE_EQ(out[0].second, 0.5);
  EXPECT_DOUBLE_EQ(out[1].second, 0.4);
  EXPECT_DOUBLE_EQ(out[2].second, (1.0 / 3 + 2.0 / 5 + 1.0 / 2 + 0) / 4);          // 37/120: class 4 left out
  EXPECT_DOUBLE_EQ(out[3].second, (3 * (1.0 / 3) + 2 * (2.0 / 5) + 4 * 0.5) / 10);  // 0.38
  EXPECT_DOUBLE_EQ(out[4].second, 0.4);
  EXPECT_DOUBLE_EQ(out[5].second, (1.0 / 3 + 1.0 / 3 + 1.0 / 2 + 0) / 4);  // 7/24
  EXPECT_DOUBLE_EQ(out[6].second, (3 * (1.0 / 3) + 2 * (1.0 / 3) + 4 * 0.5) / 10);  // 11/30
  EXPECT_DOUBLE_EQ(out[7].second, (1.0 / 3 + 1.0 / 2 + 1.0 / 2 + 0) / 4);           // 1/3
  EXPECT_DOUBLE_EQ(out[8].second, 0.4);  // weighted recall is accuracy
  EXPECT_DOUBLE_EQ(out[9].second, 0.4);
  EXPECT_DOUBLE_EQ(out[10].second, out[2].second);
}

TEST(Metrics, ExactOverTheSplitNotAveragedOverBatches) {
  MetricSet m({metric("f1", "macro"), metric("accuracy")}, 5, 5);
  std::vector<float> logits = oneHot(kPredicted, 5);
  m.add(logits.data(), kLabels.data(), nullptr, 3, 1.0);  // batches of 3, 3 and 4
  m.add(logits.data() + 15, kLabels.data() + 3, nullptr, 3, 2.0);
  m.add(logits.data() + 30, kLabels.data() + 6, nullptr, 4, 4.0);
  auto out = m.compute();
  EXPECT_EQ(m.samples(), 10);
  EXPECT_DOUBLE_EQ(out[0].second, (3 * 1.0 + 3 * 2.0 + 4 * 4.0) / 10);
  EXPECT_DOUBLE_EQ(out[1].second, 37.0 / 120);
  EXPECT_DOUBLE_EQ(out[2].second, 0.4);
}

TEST(Metrics, ArgmaxAndTopKBreakTiesByClassIndex) {
  // Labels ranked among the logits, equal logits ordered by class index as argmax orders them:
  //   row 0 [1 1 0], label 1: second (class 0 ties and comes first)
  //   row 1 [.2 .1 .3], label 1: third
  //   row 2 [0 0 0], label 2: third
  //   row 3 [5 4 3], label 2: third
  std::vector<float> logits = {1, 1, 0, /**/ 0.2f, 0.1f, 0.3f, /**/ 0, 0, 0, /**/ 5, 4, 3};
  std::vector<int64_t> labels = {1, 1, 2, 2};
  auto out = run({metric("accuracy"), metric("top_k_accuracy", "", 1), metric("top_k_accuracy", "", 2),
                  metric("top_k_accuracy", "", 3)},
                 3, logits, labels);
  EXPECT_DOUBLE_EQ(out[1].second, 0.0);
  EXPECT_DOUBLE_EQ(out[2].second, 0.0);  // top-1 is accuracy
  EXPECT_DOUBLE_EQ(out[3].second, 0.25);
  EXPECT_DOUBLE_EQ(out[4].second, 1.0);
}

TEST(Metrics, BinaryAurocWithTiesUsesAverageRanks) {
  // Positive-class logit s with the other at 0: p1 = sigmoid(s), ties stay ties.
  //   negatives: 0.1, 0.4, 0.4   positives: 0.35, 0.8, 0.4
  //   pairs won: 0.35 beats 1, 0.8 beats 3, 0.4 beats 1 and ties 2 (1/2 each): 6 of 9
  std::vector<float> s = {0.1f, 0.4f, 0.35f, 0.8f, 0.4f, 0.4f};
  std::vector<int64_t> labels = {0, 0, 1, 1, 0, 1};
  std::vector<float> logits;
  for (float v : s) logits.insert(logits.end(), {0.0f, v});
  auto out = run({metric("auroc", "macro"), metric("auroc", "weighted"), metric("auroc")}, 2, logits, labels);
  EXPECT_DOUBLE_EQ(out[1].second, 2.0 / 3);
  EXPECT_DOUBLE_EQ(out[2].second, 2.0 / 3);
  EXPECT_DOUBLE_EQ(out[3].second, 2.0 / 3);
}

// AUROC by counting every (positive, negative) pair: the definition the
// rank formula must agree with.
double pairAuc(const std::vector<double> &score, const std::vector<bool> &positive) {
  double won = 0, pairs = 0;
  for (size_t i = 0; i < score.size(); ++i)
    for (size_t j = 0; j < score.size(); ++j)
      if (positive[i] && !positive[j]) {
        won += score[i] > score[j] ? 1 : score[i] == score[j] ? 0.5 : 0;
        pairs += 1;
      }
  return won / pairs;
}

TEST(Metrics, MulticlassAurocIsOneVsRestOnSoftmaxSkippingClassesWithoutPositives) {
  const int64_t c = 4;  // class 3 is never a label: left out of macro and weighted
  std::vector<int64_t> labels = {0, 1, 2, 0, 1, 2, 2, 0};
  // Rows 0 and 5 are equal (tied scores in every column, labels 0 and 2);
  // no other probabilities coincide, so rounding cannot make or break a tie.
  std::vector<float> logits = {2, 1, 0, 1, /**/ 0, 2, 2, 0, /**/ 1, 0, 3, 0,    /**/ 1, 1, 1, 1,
                               0, 0.5f, 1, 3, /**/ 2, 1, 0, 1, /**/ 0.5f, 0, 2, 0, /**/ 0, 0, 0, 2};
  size_t n = labels.size();
  std::vector<double> prob(n * c);
  for (size_t i = 0; i < n; ++i) {
    double z = 0;
    for (int64_t k = 0; k < c; ++k) z += std::exp(double(logits[i * c + size_t(k)]));
    for (int64_t k = 0; k < c; ++k) prob[i * c + size_t(k)] = std::exp(double(logits[i * c + size_t(k)])) / z;
  }
  double macro = 0, weighted = 0;
  std::vector<double> support = {3, 2, 3};
  for (int64_t k = 0; k < 3; ++k) {
    std::vector<double> score(n);
    std::vector<bool> positive(n);
    for (size_t i = 0; i < n; ++i) {
      score[i] = prob[i * c + size_t(k)];
      positive[i] = labels[i] == k;
    }
    double auc = pairAuc(score, positive);
    macro += auc / 3;
    weighted += auc * support[size_t(k)] / 8;
  }
  std::vector<bool> pooled(n * c);
  for (size_t i = 0; i < n; ++i) pooled[i * c + size_t(labels[i])] = true;
  double micro = pairAuc(prob, pooled);

  auto out = run({metric("auroc", "macro"), metric("auroc", "weighted"), metric("auroc", "micro")}, c, logits, labels);
  EXPECT_NEAR(out[1].second, macro, 1e-12);
  EXPECT_NEAR(out[2].second, weighted, 1e-12);
  EXPECT_NEAR(out[3].second, micro, 1e-12);
  EXPECT_GT(out[1].second, 0.5);
}

TEST(Metrics, PerplexityIsExpOfTheSampleWeightedLoss) {
  MetricSet m({metric("perplexity")}, 2, 2);
  std::vector<float> logits = {0, 1, 1, 0, 0, 1};
  std::vector<int64_t> labels = {1, 0, 1};
  m.add(logits.data(), labels.data(), nullptr, 2, 1.0);
  m.add(logits.data() + 4, labels.data() + 2, nullptr, 1, 4.0);
  auto out = m.compute();
  EXPECT_DOUBLE_EQ(out[0].second, 2.0);
  EXPECT_DOUBLE_EQ(out[1].second, std::exp(2.0));
}

TEST(Metrics, SeveralPositionsPerSampleCountEachPosition) {
  // width 2 x 3 classes: two predictions per sample, two labels per sample.
  MetricSet m({metric("accuracy")}, 3, 6);
  std::vector<float> logits = {1, 0, 0, 0, 1, 0, /**/ 0, 0, 1, 1, 0, 0};
  std::vector<int64_t> labels = {0, 1, 2, 2};
  m.add(logits.data(), labels.data(), nullptr, 2, 0);
  EXPECT_DOUBLE_EQ(m.compute()[1].second, 0.75);
}

TEST(Metrics, Regression) {
  MetricSet m({metric("mse"), metric("mae"), metric("rmse"), metric("r2")}, 0, 1);
  std::vector<float> out = {1, 2, 3, 4}, target = {1, 3, 2, 6};  // errors 0, -1, 1, -2
  m.add(out.data(), nullptr, target.data(), 4, 0.25);
  auto r = m.compute();
  EXPECT_DOUBLE_EQ(r[0].second, 0.25);
  EXPECT_DOUBLE_EQ(r[1].second, 1.5);
  EXPECT_DOUBLE_EQ(r[2].second, 1.0);
  EXPECT_DOUBLE_EQ(r[3].second, std::sqrt(1.5));
  EXPECT_DOUBLE_EQ(r[4].second, 1 - 6.0 / 14);  // mean target 3, total sum of squares 14
}

TEST(Metrics, RegressionR2AveragesOutputsAndForcesFiniteScores) {
  MetricSet m({metric("r2"), metric("mse")}, 0, 2);
  // Column 0: targets 1 2 3, predictions 1 2 4 -> 1 - 1/2. Column 1: constant targets 5, perfect -> 1.
  std::vector<float> out = {1, 5, 2, 5, 4, 5}, target = {1, 5, 2, 5, 3, 5};
  m.add(out.data(), nullptr, target.data(), 3, 0);
  auto r = m.compute();
  EXPECT_DOUBLE_EQ(r[1].second, (0.5 + 1.0) / 2);
  EXPECT_DOUBLE_EQ(r[2].second, 1.0 / 6);
  MetricSet off({metric("r2")}, 0, 1);
  std::vector<float> o = {1, 2}, t = {5, 5};  // constant targets, imperfect predictions -> 0
  off.add(o.data(), nullptr, t.data(), 2, 0);
  EXPECT_DOUBLE_EQ(off.compute()[1].second, 0.0);
}

TEST(Metrics, RejectsMetricsOfTheOtherTask) {
  auto error = [](const std::function<void()> &f) {
    try {
      f();
    } catch (const Error &e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_EQ(error([] { MetricSet({metric("accuracy")}, 0, 1); }),
            "metric `accuracy` needs class labels, but the task is regression");
  EXPECT_EQ(error([] { MetricSet({metric("r2")}, 3, 3); }),
            "metric `r2` needs regression targets, but the task is classification");
  EXPECT_EQ(error([] { MetricSet({metric("bleu")}, 3, 3); }), "unknown metric `bleu`");
  EXPECT_EQ(error([] { MetricSet({metric("f1", "samples")}, 3, 3); }),
            "metric `f1`: unknown average `samples` (micro, macro or weighted)");
}

}  // namespace
}  // namespace mlcrt
