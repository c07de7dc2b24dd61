// Unit tests of the epoch order and of Batcher, with and without the
// prefetch thread.
#include "src/Batcher.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

namespace mlcrt {
namespace {

bool isPermutation(std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i] != int64_t(i)) return false;
  return true;
}

TEST(Shuffle, DependsOnSeedAndEpochOnly) {
  std::vector<int64_t> a = shuffledOrder(1000, 7, 3);
  EXPECT_TRUE(isPermutation(a));
  EXPECT_EQ(a, shuffledOrder(1000, 7, 3));
  EXPECT_NE(a, shuffledOrder(1000, 7, 4));
  EXPECT_NE(a, shuffledOrder(1000, 8, 3));
  EXPECT_NE(a, permutation(1000, 7, 0xDA7A, 0));  // the data split draws from its own stream
  EXPECT_TRUE(shuffledOrder(0, 1, 0).empty());
  EXPECT_EQ(shuffledOrder(1, 1, 0), (std::vector<int64_t>{0}));
}

TEST(Shuffle, PinnedValues) {
  // The order is part of a run's reproducibility (a resumed or repeated run
  // must see the same batches): a change here changes every experiment.
  EXPECT_EQ(shuffledOrder(10, 42, 0), (std::vector<int64_t>{5, 1, 7, 9, 4, 0, 8, 6, 2, 3}));
  EXPECT_EQ(shuffledOrder(10, 42, 1), (std::vector<int64_t>{0, 7, 5, 4, 3, 1, 6, 8, 2, 9}));
}

TEST(Shuffle, IsRoughlyUniform) {
  // Where element 0 lands over many seeds: every position about equally often.
  const int n = 8, trials = 8000;
  std::vector<int> count(n);
  for (int s = 0; s < trials; ++s) {
    auto order = shuffledOrder(n, uint64_t(s), 0);
    count[size_t(std::find(order.begin(), order.end(), 0) - order.begin())]++;
  }
  for (int c : count) EXPECT_NEAR(c, trials / n, 120);  // about 4 standard deviations
}

// A table of 7 rows: features (10 r, 10 r + 1), class r % 3, or targets (r, -r).
std::shared_ptr<Table> table(bool classes) {
  auto t = std::make_shared<Table>();
  t->samples = 7;
  t->featureWidth = 2;
  for (int64_t r = 0; r < 7; ++r) {
    t->features.insert(t->features.end(), {float(10 * r), float(10 * r + 1)});
    if (classes) t->classes.push_back(r % 3);
    else t->targets.insert(t->targets.end(), {float(r), float(-r)});
  }
  t->labelWidth = classes ? 1 : 2;
  return t;
}

struct Seen {
  std::vector<float> features;
  std::vector<int64_t> classes;
  std::vector<float> targets;
  std::vector<int64_t> sizes, firsts;
};

Seen drain(Batcher &b, bool classes, int64_t labelWidth, int64_t featureWidth = 2) {
  Seen s;
  Batch batch;
  while (b.next(batch)) {
    s.sizes.push_back(batch.size);
    s.firsts.push_back(batch.first);
    s.features.insert(s.features.end(), batch.features, batch.features + batch.size * featureWidth);
    if (classes) {
      auto *l = static_cast<const int64_t *>(batch.labels);
      s.classes.insert(s.classes.end(), l, l + batch.size);
    } else {
      auto *l = static_cast<const float *>(batch.labels);
      s.targets.insert(s.targets.end(), l, l + batch.size * labelWidth);
    }
  }
  EXPECT_FALSE(b.next(batch));  // stays at the end
  return s;
}

TEST(Batcher, GathersRowsInOrderWithAndWithoutPrefetch) {
  Split split{table(true), {6, 0, 3, 5, 1}};
  for (bool prefetch : {false, true}) {
    Batcher b(split, {4, 3, 2, 1, 0}, 2, prefetch);  // rows 1, 5, 3, 0, 6
    Seen s = drain(b, true, 1);
    EXPECT_EQ(s.sizes, (std::vector<int64_t>{2, 2, 1})) << prefetch;
    EXPECT_EQ(s.firsts, (std::vector<int64_t>{0, 2, 4}));
    EXPECT_EQ(s.features, (std::vector<float>{10, 11, 50, 51, 30, 31, 0, 1, 60, 61}));
    EXPECT_EQ(s.classes, (std::vector<int64_t>{1, 2, 0, 0, 0}));
  }
}

TEST(Batcher, RegressionTargetsAndSplitOrder) {
  Split split{table(false), {2, 4, 6}};
  for (bool prefetch : {false, true}) {
    Batcher b(split, {}, 5, prefetch);  // no order: the split's own
    Seen s = drain(b, false, 2);
    EXPECT_EQ(s.sizes, (std::vector<int64_t>{3}));
    EXPECT_EQ(s.features, (std::vector<float>{20, 21, 40, 41, 60, 61}));
    EXPECT_EQ(s.targets, (std::vector<float>{2, -2, 4, -4, 6, -6}));
  }
}

TEST(Batcher, PrefetchMatchesSynchronousOnALargeSplit) {
  auto t = std::make_shared<Table>();
  t->samples = 1000;
  t->featureWidth = 3;
  for (int64_t r = 0; r < 1000; ++r) {
    t->features.insert(t->features.end(), {float(r), float(r) + 0.5f, float(-r)});
    t->classes.push_back(r % 10);
  }
  Split split{t, {}};
  split.rows.resize(900);
  std::iota(split.rows.begin(), split.rows.end(), 50);
  std::vector<int64_t> order = shuffledOrder(900, 1, 0);
  Batcher sync(split, order, 7, false), async(split, order, 7, true);
  Seen a = drain(sync, true, 1, 3), b = drain(async, true, 1, 3);
  EXPECT_EQ(a.features, b.features);
  EXPECT_EQ(a.classes, b.classes);
  EXPECT_EQ(a.sizes.size(), 129u);  // 128 batches of 7 and one of 4
  EXPECT_EQ(a.sizes.back(), 4);
  for (size_t i = 0; i < order.size(); ++i) ASSERT_EQ(a.features[3 * i], float(50 + order[i])) << i;
}

TEST(Batcher, StopsCleanlyMidEpochAndOnEmptySplits) {
  Split split{table(true), {0, 1, 2, 3, 4, 5, 6}};
  {
    Batcher b(split, {}, 1, true);
    Batch batch;
    ASSERT_TRUE(b.next(batch));
    EXPECT_EQ(static_cast<const int64_t *>(batch.labels)[0], 0);
  }  // the destructor joins the worker while it holds a request
  { Batcher b(split, {}, 2, true); }  // never asked
  Split empty{nullptr, {}};
  Batcher b(empty, {}, 4, true);
  Batch batch;
  EXPECT_FALSE(b.next(batch));
}

}  // namespace
}  // namespace mlcrt
