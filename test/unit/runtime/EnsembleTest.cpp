// The ensemble's arithmetic: members averaged as probabilities (softmax,
// sigmoid) or as values, returned in the members' own form, and the loss of
// the average computed as each compiled loss computes it.
#include "src/Cli.h"
#include "src/tune/Ensemble.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>

namespace {

using namespace mlcrt;
using namespace mlcrt::tune;

Split classSplit(std::vector<int64_t> labels) {
  auto t = std::make_shared<Table>();
  t->samples = int64_t(labels.size());
  t->classes = std::move(labels);
  Split s;
  s.table = t;
  for (int64_t i = 0; i < t->samples; ++i) s.rows.push_back(i);
  return s;
}

Split targetSplit(std::vector<float> targets, int64_t width) {
  auto t = std::make_shared<Table>();
  t->samples = int64_t(targets.size()) / width;
  t->labelWidth = width;
  t->targets = std::move(targets);
  Split s;
  s.table = t;
  for (int64_t i = 0; i < t->samples; ++i) s.rows.push_back(i);
  return s;
}

OutputKind kindOf(const std::string &loss) {
  OutputKind k;
  k.loss = loss;
  return k;
}

TEST(EnsembleTest, ClassifiersAverageProbabilitiesNotLogits) {
  // Member a: p = (0.8, 0.2); member b: p = (0.2, 0.8) (logits log p). The
  // average is (0.5, 0.5); averaging the logits would also give a tie, so a
  // third, confident member shows the difference: (0.99, 0.01) with logits
  // scaled up.
  std::vector<float> a = {std::log(0.8f), std::log(0.2f)}, b = {std::log(0.2f) + 5, std::log(0.8f) + 5};
  std::vector<float> mean = averageOutputs(kindOf("cross_entropy"), {a, b}, 2);
  EXPECT_NEAR(std::exp(mean[0]), 0.5, 1e-6);
  EXPECT_NEAR(std::exp(mean[1]), 0.5, 1e-6);
  std::vector<float> c = {0, -100};  // p = (1, e^-100)
  mean = averageOutputs(kindOf("cross_entropy"), {a, b, c}, 2);
  EXPECT_NEAR(std::exp(mean[0]), 2.0 / 3, 1e-6);
  EXPECT_NEAR(std::exp(mean[1]), 1.0 / 3, 1e-6);
}

TEST(EnsembleTest, OneMemberKeepsItsLossAndPrediction) {
  Split s = classSplit({1, 0});
  std::vector<float> logits = {0.5f, 2.0f, -1.0f, 3.0f, 0.0f, 1.0f};  // two samples, three classes
  std::vector<float> mean = averageOutputs(kindOf("cross_entropy"), {logits}, 3);
  double direct = lossOf(kindOf("cross_entropy"), logits, s, 3, 3);
  EXPECT_NEAR(lossOf(kindOf("cross_entropy"), mean, s, 3, 3), direct, 1e-6);
  // -log softmax: sample 0 picks class 1, sample 1 class 0.
  double lse0 = std::log(std::exp(0.5) + std::exp(2.0) + std::exp(-1.0));
  double lse1 = std::log(std::exp(3.0) + std::exp(0.0) + std::exp(1.0));
  EXPECT_NEAR(direct, ((lse0 - 2.0) + (lse1 - 3.0)) / 2, 1e-9);
}

TEST(EnsembleTest, LabelSmoothingMixesInTheMeanOverClasses) {
  Split s = classSplit({0});
  std::vector<float> logp = {std::log(0.5f), std::log(0.25f), std::log(0.25f)};
  OutputKind k = kindOf("cross_entropy");
  k.smoothing = 0.3;
  double expected = 0.7 * -std::log(0.5) + 0.3 * -(std::log(0.5) + 2 * std::log(0.25)) / 3;
  EXPECT_NEAR(lossOf(k, logp, s, 3, 3), expected, 1e-6);
  // nll reads log-probabilities as they are.
  EXPECT_NEAR(lossOf(kindOf("nll"), logp, s, 3, 3), -std::log(0.5), 1e-6);
}

TEST(EnsembleTest, BinaryOutputsAverageSigmoidsAndComeBackAsLogits) {
  std::vector<float> a = {0.0f}, b = {std::log(3.0f)};  // p = 0.5 and 0.75
  std::vector<float> mean = averageOutputs(kindOf("binary_cross_entropy"), {a, b}, 0);
  EXPECT_NEAR(1 / (1 + std::exp(-mean[0])), 0.625, 1e-6);
  Split s = targetSplit({1.0f}, 1);
  EXPECT_NEAR(lossOf(kindOf("binary_cross_entropy"), mean, s, 1, 0), -std::log(0.625), 1e-6);
}

TEST(EnsembleTest, RegressorsAverageValuesAndScoreEachLoss) {
  std::vector<float> a = {1, 4}, b = {3, 0};  // one sample, two values
  std::vector<float> mean = averageOutputs(kindOf("mse"), {a, b}, 0);
  EXPECT_EQ(mean, (std::vector<float>{2, 2}));
  Split s = targetSplit({0.5f, 4.0f}, 2);  // differences 1.5 and -2
  EXPECT_NEAR(lossOf(kindOf("mse"), mean, s, 2, 0), (2.25 + 4) / 2, 1e-9);
  EXPECT_NEAR(lossOf(kindOf("l1"), mean, s, 2, 0), (1.5 + 2) / 2, 1e-9);
  OutputKind huber = kindOf("huber");
  huber.delta = 1.8;  // 1.5 is quadratic, 2 linear
  EXPECT_NEAR(lossOf(huber, mean, s, 2, 0), (0.5 * 2.25 + 1.8 * (2 - 0.9)) / 2, 1e-9);
}

TEST(EnsembleTest, MembersOfDifferentSizesAreAnError) {
  EXPECT_THROW(averageOutputs(kindOf("mse"), {{1, 2}, {1}}, 0), Error);
  EXPECT_THROW(averageOutputs(kindOf("cross_entropy"), {{1, 2, 3}}, 2), Error);
  EXPECT_THROW(averageOutputs(kindOf("mse"), {}, 0), Error);
}

TEST(EnsembleTest, ItsMetricsFileReadsBackAsItsLine) {
  std::string json = ensembleJson({5, 8, 1}, {{"test.loss", 0.01847}, {"test.accuracy", 1.0}});
  EXPECT_EQ(ensembleLine(json), "trials 5, 8, 1: test.loss=0.0185 test.accuracy=1.0000");
  EXPECT_EQ(ensembleLine(""), "");
  EXPECT_EQ(ensembleLine("[1, 2]"), "");
}

}  // namespace
