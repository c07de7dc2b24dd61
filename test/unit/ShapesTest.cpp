// Unit tests of shape arithmetic and numeric ranges used by sema.
#include "sema/Shapes.h"

#include <gtest/gtest.h>

namespace mlc::sema {
namespace {

TensorType t(std::vector<Dim> dims) { return {"f32", std::move(dims)}; }

TEST(Broadcast, FollowsNumpyRulesFromTheRight) {
  SourceManager sm;
  Diagnostics d(sm);
  auto r = broadcast(d, "+", t({Dim::batch(), Dim::constant(8)}), t({Dim::constant(1), Dim::constant(8)}), Loc{});
  ASSERT_TRUE(r);
  EXPECT_EQ(toString(*r), "f32[batch, 8]");
  r = broadcast(d, "*", t({Dim::constant(8)}), t({Dim::batch(), Dim::constant(3), Dim::constant(1)}), Loc{});
  ASSERT_TRUE(r);
  EXPECT_EQ(toString(*r), "f32[batch, 3, 8]");
  EXPECT_FALSE(d.hasErrors());
}

TEST(Broadcast, RejectsUnequalDimsAndBatchAgainstConstants) {
  SourceManager sm;
  Diagnostics d(sm);
  EXPECT_FALSE(broadcast(d, "+", t({Dim::batch(), Dim::constant(8)}), t({Dim::batch(), Dim::constant(4)}), Loc{}));
  EXPECT_FALSE(broadcast(d, "+", t({Dim::batch()}), t({Dim::constant(4)}), Loc{}));
  EXPECT_FALSE(broadcast(d, "+", t({Dim::constant(4)}), TensorType{"i64", {Dim::constant(4)}}, Loc{}));
  EXPECT_EQ(d.errorCount(), 3u);
}

TEST(Interval, HalfOpenBoundsAndExclusions) {
  Interval unit{0.0, 1.0, true, false, std::nullopt};
  EXPECT_TRUE(unit.contains(0));
  EXPECT_TRUE(unit.contains(0.999));
  EXPECT_FALSE(unit.contains(1));
  EXPECT_FALSE(unit.contains(-0.1));
  EXPECT_EQ(unit.toString(), "in [0, 1)");
  Interval positive{0.0, std::nullopt, false, true, std::nullopt};
  EXPECT_FALSE(positive.contains(0));
  EXPECT_EQ(positive.toString(), "> 0");
  Interval nonZero{std::nullopt, std::nullopt, true, true, 0.0};
  EXPECT_FALSE(nonZero.contains(0));
  EXPECT_TRUE(nonZero.contains(-3));
  EXPECT_EQ(nonZero.toString(), "!= 0");
}

}  // namespace
}  // namespace mlc::sema
