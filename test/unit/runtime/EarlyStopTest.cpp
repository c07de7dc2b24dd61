// Early stopping on scripted metric curves: each knob stops at the epoch
// and with the reason it should, and the state a checkpoint records
// continues the count exactly.
#include "src/EarlyStop.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace {

using mlcrt::EarlyStopping;
using mlcrt::EarlyStopSpec;

// Feeds `curve` (one value per epoch) and returns the epoch it stops at
// (0: never) and the reason.
std::pair<int64_t, std::string> stopOn(const EarlyStopSpec &spec, const std::vector<double> &curve) {
  EarlyStopping e(spec);
  for (size_t i = 0; i < curve.size(); ++i)
    if (auto why = e.update(int64_t(i + 1), {{"train.loss", 9.0}, {spec.monitor, curve[i]}}))
      return {int64_t(i + 1), *why};
  return {0, ""};
}

EarlyStopSpec spec(const std::string &mode = "min") {
  EarlyStopSpec s;
  s.monitor = "val.loss";
  s.mode = mode;
  s.patience = 2;
  return s;
}

TEST(EarlyStop, PatienceCountsValidationsWithoutImprovement) {
  auto [epoch, why] = stopOn(spec(), {1.0, 0.8, 0.9, 0.85, 0.7});
  EXPECT_EQ(epoch, 4);
  EXPECT_EQ(why, "`val.loss` has not improved by more than 0 for 2 validations (best 0.8 after epoch 2)");
  // An improvement resets the count.
  EXPECT_EQ(stopOn(spec(), {1.0, 1.1, 0.9, 1.0, 0.8, 0.85}).first, 0);
}

TEST(EarlyStop, MinDeltaIgnoresSmallImprovements) {
  EarlyStopSpec s = spec();
  s.minDelta = 0.05;
  auto [epoch, why] = stopOn(s, {1.0, 0.97, 0.96, 0.5});
  EXPECT_EQ(epoch, 3);
  EXPECT_EQ(why, "`val.loss` has not improved by more than 0.05 for 2 validations (best 1 after epoch 1)");
}

TEST(EarlyStop, ModeMaxWatchesForHigherValues) {
  EarlyStopSpec s = spec("max");
  s.monitor = "val.accuracy";
  EXPECT_EQ(stopOn(s, {0.5, 0.6, 0.7, 0.8}).first, 0);
  EXPECT_EQ(stopOn(s, {0.5, 0.6, 0.55, 0.6}).first, 4);
}

TEST(EarlyStop, Thresholds) {
  EarlyStopSpec below = spec();
  below.stopBelow = 0.1;
  auto [epoch, why] = stopOn(below, {1.0, 0.5, 0.09, 0.01});
  EXPECT_EQ(epoch, 3);
  EXPECT_EQ(why, "`val.loss` = 0.09 is below `stop_below` = 0.1 after epoch 3");
  EarlyStopSpec above = spec("max");
  above.monitor = "val.accuracy";
  above.stopAbove = 0.95;
  std::tie(epoch, why) = stopOn(above, {0.5, 0.96});
  EXPECT_EQ(epoch, 2);
  EXPECT_EQ(why, "`val.accuracy` = 0.96 is above `stop_above` = 0.95 after epoch 2");
}

TEST(EarlyStop, DivergenceStopsWhenWorseThanTheBound) {
  EarlyStopSpec s = spec();
  s.patience = 100;
  s.divergence = 5.0;
  auto [epoch, why] = stopOn(s, {2.0, 4.0, 5.5});
  EXPECT_EQ(epoch, 3);
  EXPECT_EQ(why, "`val.loss` = 5.5 diverged: worse than `divergence` = 5 after epoch 3");
}

TEST(EarlyStop, CheckFinite) {
  EarlyStopSpec s = spec();
  auto [epoch, why] = stopOn(s, {1.0, std::nan("")});
  EXPECT_EQ(epoch, 2);
  EXPECT_EQ(why, "`val.loss` is nan after epoch 2");
  EarlyStopping e(s);
  EXPECT_FALSE(e.checkLoss(3, 1, 0.5));
  EXPECT_EQ(*e.checkLoss(37, 2, std::numeric_limits<double>::infinity()),
            "the train loss is inf at step 37 (epoch 2)");
  s.checkFinite = false;
  EXPECT_FALSE(EarlyStopping(s).checkLoss(37, 2, std::nan("")));
  EXPECT_EQ(stopOn(s, {1.0, std::nan(""), 0.5}).first, 0);
}

TEST(EarlyStop, AMissingMetricIsNotAValidation) {
  EarlyStopping e(spec());
  EXPECT_FALSE(e.update(1, {{"val.loss", 1.0}}));
  EXPECT_FALSE(e.update(2, {{"train.loss", 0.5}}));  // val_every skipped this epoch
  EXPECT_FALSE(e.update(3, {{"train.loss", 0.5}}));
  EXPECT_EQ(e.state().wait, 0);
}

TEST(EarlyStop, RestoredStateContinuesTheCount) {
  EarlyStopping a(spec());
  a.update(1, {{"val.loss", 1.0}});
  a.update(2, {{"val.loss", 1.2}});
  EarlyStopping b(spec());
  b.restore(a.state());
  EXPECT_EQ(b.state().wait, 1);
  auto why = b.update(3, {{"val.loss", 1.1}});
  ASSERT_TRUE(why);
  EXPECT_EQ(*why, "`val.loss` has not improved by more than 0 for 2 validations (best 1 after epoch 1)");
}

}  // namespace
