// mlcrt_sgemm against a plain triple loop, for every transpose pair, with
// padded leading dimensions, accumulation (beta) and the empty cases.
#include "abi/plan.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace {

// Row-major op(X)[i][j] for X stored with leading dimension ld.
float at(const std::vector<float> &x, bool trans, int64_t ld, int64_t i, int64_t j) {
  return trans ? x[size_t(j * ld + i)] : x[size_t(i * ld + j)];
}

TEST(Gemm, MatchesTheDefinition) {
  const int64_t m = 5, n = 7, k = 3;
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb) {
      // Leading dimensions one wider than needed, so padding must be skipped.
      int64_t lda = (ta ? m : k) + 1, ldb = (tb ? k : n) + 1, ldc = n + 2;
      std::vector<float> a(size_t((ta ? k : m) * lda)), b(size_t((tb ? n : k) * ldb)), c(size_t(m * ldc));
      for (size_t i = 0; i < a.size(); ++i) a[i] = float(int(i * 7 % 11) - 5) / 4;
      for (size_t i = 0; i < b.size(); ++i) b[i] = float(int(i * 5 % 13) - 6) / 8;
      for (size_t i = 0; i < c.size(); ++i) c[i] = float(i % 3);
      std::vector<float> want = c;
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
          double s = 0;
          for (int64_t p = 0; p < k; ++p) s += double(at(a, ta, lda, i, p)) * at(b, tb, ldb, p, j);
          want[size_t(i * ldc + j)] = float(2.0 * s + 0.5 * c[size_t(i * ldc + j)]);
        }
      mlcrt_sgemm(ta, tb, m, n, k, 2.0f, a.data(), lda, b.data(), ldb, 0.5f, c.data(), ldc);
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < ldc; ++j) {
          float expected = j < n ? want[size_t(i * ldc + j)] : float((i * ldc + j) % 3);  // padding untouched
          EXPECT_NEAR(c[size_t(i * ldc + j)], expected, 1e-5) << ta << tb << " " << i << "," << j;
        }
    }
}

TEST(Gemm, EmptyProducts) {
  float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> c{nan, 2, 3, 4};
  float unused = 0;
  // k = 0: C = beta C, and beta = 0 clears whatever C held.
  mlcrt_sgemm(0, 0, 2, 2, 0, 1.0f, &unused, 1, &unused, 2, 0.0f, c.data(), 2);
  EXPECT_EQ(c, (std::vector<float>{0, 0, 0, 0}));
  c = {1, 2, 3, 4};
  mlcrt_sgemm(0, 0, 2, 2, 0, 1.0f, &unused, 1, &unused, 2, 2.0f, c.data(), 2);
  EXPECT_EQ(c, (std::vector<float>{2, 4, 6, 8}));
  // m = 0 or n = 0 writes nothing.
  mlcrt_sgemm(0, 0, 0, 2, 3, 1.0f, &unused, 3, &unused, 2, 0.0f, c.data(), 2);
  mlcrt_sgemm(0, 0, 2, 0, 3, 1.0f, &unused, 3, &unused, 1, 0.0f, c.data(), 1);
  EXPECT_EQ(c, (std::vector<float>{2, 4, 6, 8}));
}

TEST(GemmDeathTest, BadLeadingDimensionAborts) {
  std::vector<float> a(6), b(6), c(4);
  EXPECT_DEATH(mlcrt_sgemm(0, 0, 2, 2, 3, 1.0f, a.data(), 1, b.data(), 2, 0.0f, c.data(), 2),
               "error: sgemm failed in oneDNN \\(invalid_arguments\\): trans_a=0 trans_b=0 m=2 n=2 k=3 lda=1");
}

}  // namespace
