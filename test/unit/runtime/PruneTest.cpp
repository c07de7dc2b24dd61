// The pruners on hand-built studies: ASHA's rungs and promotion rule,
// Hyperband's brackets, the median rule, and NaN values.
#include "src/tune/Prune.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

namespace {

using namespace mlcrt::tune;

PruneSpec asha(int64_t grace, int64_t reduction, int64_t maxBudget) {
  PruneSpec s;
  s.kind = "asha";
  s.grace = grace;
  s.reduction = reduction;
  s.maxBudget = maxBudget;
  return s;
}

PruneSpec hyperband(int64_t grace, int64_t reduction, int64_t maxBudget) {
  PruneSpec s = asha(grace, reduction, maxBudget);
  s.kind = "hyperband";
  return s;
}

PruneSpec medianSpec(int64_t warmup, int64_t minTrials) {
  PruneSpec s;
  s.kind = "median";
  s.warmup = warmup;
  s.minTrials = minTrials;
  return s;
}

// Trial `number` with the given intermediate values and state.
Trial trial(int number, std::map<int64_t, double> values, TrialState state = TrialState::Running) {
  Trial t;
  t.number = number;
  t.state = state;
  t.intermediate = std::move(values);
  t.budget = t.intermediate.empty() ? 0 : t.intermediate.rbegin()->first;
  if (state == TrialState::Complete || state == TrialState::Pruned) t.value = t.intermediate.rbegin()->second;
  return t;
}

// A study whose trial i reported values[i] at `budget`.
Study reportedAt(int64_t budget, const std::vector<double> &values, bool minimize = true) {
  Study s;
  s.minimize = minimize;
  for (size_t i = 0; i < values.size(); ++i) s.trials.push_back(trial(int(i), {{budget, values[i]}}));
  return s;
}

bool prunes(const PruneSpec &spec, const Study &s, int number, int64_t budget) {
  return shouldPrune(spec, s, s.trials[size_t(number)], budget);
}

// ---------------------------------------------------------------- rungs

TEST(PruneTest, AshaRungsAreGraceTimesPowersOfReductionBelowTheBudget) {
  EXPECT_EQ(rungs(asha(1, 3, 100)), (std::vector<int64_t>{1, 3, 9, 27, 81}));
  EXPECT_EQ(rungs(asha(2, 2, 16)), (std::vector<int64_t>{2, 4, 8}));
  EXPECT_EQ(rungs(asha(1, 3, 27)), (std::vector<int64_t>{1, 3, 9}));
  EXPECT_EQ(rungs(asha(5, 4, 5)), (std::vector<int64_t>{}));
  EXPECT_EQ(rungs(asha(1, 2, int64_t(1) << 62)).size(), 62u);  // no overflow
  EXPECT_TRUE(rungs(medianSpec(1, 1)).empty());
  EXPECT_TRUE(rungs(PruneSpec{}).empty());
}

TEST(PruneTest, BadSpecsAreInvalidArguments) {
  PruneSpec unknown;
  unknown.kind = "patience";
  EXPECT_THROW(rungs(unknown), std::invalid_argument);
  EXPECT_THROW(rungs(asha(0, 3, 10)), std::invalid_argument);
  EXPECT_THROW(rungs(asha(1, 1, 10)), std::invalid_argument);
  EXPECT_THROW(bracketCount(hyperband(1, 3, 0)), std::invalid_argument);
  Study s = reportedAt(1, {1.0});
  EXPECT_THROW(shouldPrune(medianSpec(-1, 0), s, s.trials[0], 1), std::invalid_argument);
}

// ---------------------------------------------------------------- asha

TEST(PruneTest, AshaKeepsTheBestThirdOfSixAtARung) {
  // Values 1..6 at rung 1 (reduction 3): the best floor(6 / 3) = 2 continue.
  Study s = reportedAt(1, {4, 1, 6, 2, 3, 5});
  PruneSpec spec = asha(1, 3, 27);
  EXPECT_FALSE(prunes(spec, s, 1, 1));  // best
  EXPECT_FALSE(prunes(spec, s, 3, 1));  // second best
  EXPECT_TRUE(prunes(spec, s, 4, 1));   // third best
  EXPECT_TRUE(prunes(spec, s, 0, 1));
  EXPECT_TRUE(prunes(spec, s, 2, 1));   // worst
}

TEST(PruneTest, AshaWithFewerThanReductionValuesOnlyTheBestContinues) {
  PruneSpec spec = asha(1, 3, 27);
  Study alone = reportedAt(3, {10});
  EXPECT_FALSE(prunes(spec, alone, 0, 3));
  Study two = reportedAt(3, {10, 12});
  EXPECT_FALSE(prunes(spec, two, 0, 3));
  EXPECT_TRUE(prunes(spec, two, 1, 3));
  Study tie = reportedAt(3, {10, 10});
  EXPECT_FALSE(prunes(spec, tie, 1, 3));
  // Three values: floor(3 / 3) = 1.
  Study three = reportedAt(3, {10, 11, 9});
  EXPECT_FALSE(prunes(spec, three, 2, 3));
  EXPECT_TRUE(prunes(spec, three, 0, 3));
}

TEST(PruneTest, AshaComparesOnlyValuesAtTheSameRung) {
  PruneSpec spec = asha(1, 2, 16);
  Study s = reportedAt(2, {5, 6});
  s.trials.push_back(trial(2, {{1, 0.1}, {2, 0.2}, {4, 0.3}}));  // at rungs 1, 2 and 4
  s.trials.push_back(trial(3, {{4, 9.0}}));
  EXPECT_TRUE(prunes(spec, s, 0, 2));   // 5 of {5, 6, 0.2}: keep floor(3 / 2) = 1
  EXPECT_TRUE(prunes(spec, s, 3, 4));   // 9 of {0.3, 9}
  EXPECT_FALSE(prunes(spec, s, 2, 4));  // 0.3 of {0.3, 9}
}

TEST(PruneTest, AshaNeverPrunesOffARung) {
  PruneSpec spec = asha(1, 3, 27);
  Study s = reportedAt(2, {1, 2, 3, 100});
  EXPECT_FALSE(prunes(spec, s, 3, 2));
  Study full = reportedAt(27, {1, 2, 3, 100});
  EXPECT_FALSE(prunes(spec, full, 3, 27));  // the full budget is not a rung
}

TEST(PruneTest, AshaCountsTrialsInEveryState) {
  PruneSpec spec = asha(1, 3, 27);
  Study s;
  s.trials.push_back(trial(0, {{1, 1.0}}, TrialState::Complete));
  s.trials.push_back(trial(1, {{1, 2.0}}, TrialState::Pruned));
  s.trials.push_back(trial(2, {{1, 3.0}}, TrialState::Failed));
  s.trials.push_back(trial(3, {{1, 2.5}}));
  EXPECT_TRUE(prunes(spec, s, 3, 1));  // 2.5 is third of four: keep 1
}

TEST(PruneTest, AshaMaximises) {
  PruneSpec spec = asha(1, 3, 27);
  Study s = reportedAt(1, {4, 1, 6, 2, 3, 5}, false);
  EXPECT_FALSE(prunes(spec, s, 2, 1));  // 6
  EXPECT_FALSE(prunes(spec, s, 5, 1));  // 5
  EXPECT_TRUE(prunes(spec, s, 0, 1));   // 4
}

TEST(PruneTest, AshaUsesTheAskingTrialsOwnReport) {
  // The study holds an older copy of trial 1 without its new report.
  PruneSpec spec = asha(1, 3, 27);
  Study s = reportedAt(1, {1, 2, 3});
  Trial fresh = trial(1, {{1, 2.0}, {3, 0.5}});
  s.trials.push_back(trial(3, {{3, 0.7}}));
  EXPECT_FALSE(shouldPrune(spec, s, fresh, 3));
  fresh.intermediate[3] = 0.9;
  EXPECT_TRUE(shouldPrune(spec, s, fresh, 3));
}

TEST(PruneTest, AshaComparesWhatEachTrialAchievedByTheRung) {
  // Noisy validation: trial 0 was best at budget 1 and had a bad epoch on the
  // rung; trial 1 is steady. Each is judged by its best value up to the rung.
  PruneSpec spec = asha(1, 3, 27);
  Study s;
  s.trials.push_back(trial(0, {{1, 0.1}, {3, 0.9}}));
  s.trials.push_back(trial(1, {{1, 0.5}, {3, 0.4}}));
  s.trials.push_back(trial(2, {{1, 0.6}, {3, 0.6}}));
  EXPECT_FALSE(prunes(spec, s, 0, 3));  // 0.1 of {0.1, 0.4, 0.6}
  EXPECT_TRUE(prunes(spec, s, 1, 3));   // 0.4: keep floor(3 / 3) = 1
  // A competitor's values after the rung do not count for it.
  s.trials[2].intermediate[9] = 0.01;
  EXPECT_FALSE(prunes(spec, s, 0, 3));
}

TEST(PruneTest, MedianComparesWithWhatTheOthersAchievedByTheBudget) {
  PruneSpec spec = medianSpec(0, 0);
  Study s;
  s.trials.push_back(trial(0, {{1, 0.2}, {2, 0.9}}, TrialState::Complete));
  s.trials.push_back(trial(1, {{1, 0.3}, {2, 0.8}}, TrialState::Complete));
  s.trials.push_back(trial(2, {{1, 0.4}, {2, 0.5}}));
  // The others had reached 0.2 and 0.3 by budget 2 (median 0.25), not 0.85.
  EXPECT_TRUE(prunes(spec, s, 2, 2));
}

TEST(PruneTest, NanValuesArePrunedAndRankLast) {
  PruneSpec spec = asha(1, 3, 27);
  Study s = reportedAt(1, {NAN, 5, 6});
  EXPECT_TRUE(prunes(spec, s, 0, 1));
  EXPECT_FALSE(prunes(spec, s, 1, 1));  // the NaN does not beat 5
  Study inf = reportedAt(1, {INFINITY, -INFINITY, 3});
  EXPECT_FALSE(prunes(spec, inf, 2, 1));  // non-finite values rank below 3
  Study med = reportedAt(1, {NAN, 1, 2, 3});
  EXPECT_TRUE(prunes(medianSpec(1, 0), med, 0, 1));
}

// ---------------------------------------------------------------- hyperband

TEST(PruneTest, HyperbandBracketsStartOneRungLaterEach) {
  PruneSpec spec = hyperband(1, 3, 27);  // s_max = log3(27) = 3
  ASSERT_EQ(bracketCount(spec), 4);
  EXPECT_EQ(rungs(spec, 0), (std::vector<int64_t>{1, 3, 9}));
  EXPECT_EQ(rungs(spec, 1), (std::vector<int64_t>{3, 9}));
  EXPECT_EQ(rungs(spec, 2), (std::vector<int64_t>{9}));
  EXPECT_EQ(rungs(spec, 3), (std::vector<int64_t>{}));
  EXPECT_EQ(rungs(spec, 4), (std::vector<int64_t>{}));
  EXPECT_EQ(bracketCount(hyperband(2, 3, 50)), 3);  // 2, 6, 18 <= 50 < 54
  EXPECT_EQ(bracketCount(hyperband(10, 3, 5)), 1);
  EXPECT_EQ(bracketCount(asha(1, 3, 27)), 1);
}

TEST(PruneTest, HyperbandBracketsAreAFixedFunctionOfTheNumberWithHyperbandsShares) {
  PruneSpec spec = hyperband(1, 3, 27);
  // Hyperband's n_i = ceil((s_max + 1) / (s + 1) * 3^s) for s = 3 .. 0
  // halvings: 27, 12, 6 and 4 of 49.
  const double shares[4] = {27.0 / 49, 12.0 / 49, 6.0 / 49, 4.0 / 49};
  int counts[4] = {0, 0, 0, 0};
  const int n = 49000;
  for (int i = 0; i < n; ++i) {
    int b = bracketOf(spec, i);
    ASSERT_GE(b, 0);
    ASSERT_LT(b, 4);
    ASSERT_EQ(bracketOf(spec, i), b);
    counts[b]++;
  }
  for (int b = 0; b < 4; ++b) EXPECT_NEAR(double(counts[b]) / n, shares[b], 0.01) << b;
  EXPECT_EQ(bracketOf(asha(1, 3, 27), 12345), 0);
  // Not a pattern in consecutive numbers.
  int changes = 0;
  for (int i = 1; i < 100; ++i) changes += bracketOf(spec, i) != bracketOf(spec, i - 1);
  EXPECT_GT(changes, 30);
}

// Numbers of trials in bracket `b`, from 0 up.
std::vector<int> numbersIn(const PruneSpec &spec, int b, size_t count) {
  std::vector<int> out;
  for (int i = 0; out.size() < count; ++i)
    if (bracketOf(spec, i) == b) out.push_back(i);
  return out;
}

TEST(PruneTest, HyperbandComparesOnlyWithinABracket) {
  PruneSpec spec = hyperband(1, 3, 27);
  std::vector<int> b0 = numbersIn(spec, 0, 3), b1 = numbersIn(spec, 1, 3);
  Study s;
  // Bracket 1's trials are much better at budget 3 but do not compete with
  // bracket 0's.
  for (int i : b1) s.trials.push_back(trial(i, {{3, 0.01 * i}}));
  s.trials.push_back(trial(b0[0], {{3, 5.0}}));
  s.trials.push_back(trial(b0[1], {{3, 6.0}}));
  EXPECT_FALSE(shouldPrune(spec, s, s.trials[3], 3));  // best of bracket 0's two
  EXPECT_TRUE(shouldPrune(spec, s, s.trials[4], 3));
  // Budget 1 is a rung of bracket 0 only.
  Trial early = trial(b1[0], {{1, 100.0}});
  Study withLow = reportedAt(1, {0.1, 0.2});
  EXPECT_FALSE(shouldPrune(spec, withLow, early, 1));
  // Bracket 3 never prunes (its first rung is the full budget).
  int b3 = numbersIn(spec, 3, 1)[0];
  Study many = reportedAt(9, {0.1, 0.2, 0.3});
  EXPECT_FALSE(shouldPrune(spec, many, trial(b3, {{9, 50.0}}), 9));
  // A NaN at a rung of the trial's bracket stops it; alone it would continue.
  EXPECT_TRUE(shouldPrune(spec, Study{}, trial(b0[2], {{1, NAN}}), 1));
  EXPECT_FALSE(shouldPrune(spec, Study{}, trial(b0[2], {{1, 7.0}}), 1));
}

// ---------------------------------------------------------------- median

// Trials 0..4 finished with values 1..5 at budgets 1..3 (value v at every
// budget), and the running trial 5 with `values`.
Study medianStudy(std::map<int64_t, double> values) {
  Study s;
  for (int i = 0; i < 5; ++i)
    s.trials.push_back(trial(i, {{1, i + 1.0}, {2, i + 1.0}, {3, i + 1.0}}, TrialState::Complete));
  s.trials.push_back(trial(5, std::move(values)));
  return s;
}

TEST(PruneTest, MedianPrunesATrialWorseThanTheMedianAtItsBudget) {
  PruneSpec spec = medianSpec(1, 5);
  EXPECT_TRUE(prunes(spec, medianStudy({{2, 3.5}}), 5, 2));   // median of 1..5 is 3
  EXPECT_FALSE(prunes(spec, medianStudy({{2, 2.5}}), 5, 2));
  EXPECT_FALSE(prunes(spec, medianStudy({{2, 3.0}}), 5, 2));  // equal is not worse
  // Its best so far counts: 1.5 at budget 1, 10 at budget 3.
  EXPECT_FALSE(prunes(spec, medianStudy({{1, 1.5}, {3, 10.0}}), 5, 3));
  EXPECT_TRUE(prunes(spec, medianStudy({{1, 3.5}, {3, 10.0}}), 5, 3));
  // An even count: the median of 1..5 and 4.4 at budget 2 is 3.5.
  Study even = medianStudy({{2, 3.6}});
  even.trials.push_back(trial(6, {{2, 4.4}}));
  EXPECT_TRUE(prunes(spec, even, 5, 2));
  even.trials[5].intermediate[2] = 3.4;
  EXPECT_FALSE(prunes(spec, even, 5, 2));
}

TEST(PruneTest, MedianWaitsForWarmupAndFinishedTrials) {
  EXPECT_FALSE(prunes(medianSpec(3, 5), medianStudy({{2, 100.0}}), 5, 2));  // before warmup
  EXPECT_TRUE(prunes(medianSpec(2, 5), medianStudy({{2, 100.0}}), 5, 2));
  EXPECT_FALSE(prunes(medianSpec(1, 6), medianStudy({{2, 100.0}}), 5, 2));  // 5 finished of 6
  Study running = medianStudy({{2, 100.0}});
  running.trials[0].state = TrialState::Running;
  EXPECT_FALSE(prunes(medianSpec(1, 5), running, 5, 2));
  running.trials[0].state = TrialState::Pruned;
  EXPECT_TRUE(prunes(medianSpec(1, 5), running, 5, 2));
}

TEST(PruneTest, MedianNeedsAnotherValueAtTheBudget) {
  PruneSpec spec = medianSpec(1, 0);
  EXPECT_FALSE(prunes(spec, medianStudy({{7, 100.0}}), 5, 7));
  Study nans = reportedAt(4, {NAN, NAN, 50});
  EXPECT_FALSE(prunes(spec, nans, 2, 4));  // NaNs are not values to compare with
  // ... nor part of the median: without them it is 1, and 50 is worse.
  EXPECT_TRUE(prunes(spec, reportedAt(4, {NAN, 1, 50}), 2, 4));
  Study one = reportedAt(4, {1, 50});
  EXPECT_TRUE(prunes(spec, one, 1, 4));
}

TEST(PruneTest, MedianMaximises) {
  PruneSpec spec = medianSpec(1, 0);
  Study s = reportedAt(1, {1, 2, 3, 4, 5, 2.5}, false);
  EXPECT_TRUE(prunes(spec, s, 5, 1));
  s.trials[5].intermediate[1] = 3.5;
  EXPECT_FALSE(prunes(spec, s, 5, 1));
}

TEST(PruneTest, NoneNeverPrunes) {
  Study s = reportedAt(1, {1, 2, NAN});
  EXPECT_FALSE(prunes(PruneSpec{}, s, 2, 1));
  EXPECT_FALSE(prunes(PruneSpec{}, s, 1, 1));
  EXPECT_EQ(bracketCount(PruneSpec{}), 1);
}

}  // namespace
