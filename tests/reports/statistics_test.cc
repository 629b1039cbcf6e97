#include "scratchdet/report/statistics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "scratchdet/core/error.h"

namespace scratchdet::report {
namespace {

TEST(StatisticsTest, MeanAndSampleStdWorkedByHand) {
  // 50, 52, 57: mean 53; deviations -3, -1, 4; squares 26; /(n-1) = 13; std = sqrt(13).
  EXPECT_DOUBLE_EQ(Mean({50, 52, 57}), 53.0);
  EXPECT_DOUBLE_EQ(SampleStd({50, 52, 57}), std::sqrt(13.0));
  EXPECT_DOUBLE_EQ(SampleStd({42}), 0.0);
  EXPECT_TRUE(std::isnan(Mean({})));
}

// Reference values from:
//   /usr/bin/python3 -c "from scipy import special; print(repr(special.betainc(a, b, x)))"
TEST(StatisticsTest, IncompleteBetaMatchesScipy) {
  EXPECT_NEAR(RegularizedIncompleteBeta(0.5, 0.5, 0.3), 0.3690101195655454, 1e-12);
  EXPECT_NEAR(RegularizedIncompleteBeta(2, 3, 0.4), 0.5248, 1e-12);  // polynomial: exact
  EXPECT_NEAR(RegularizedIncompleteBeta(10, 0.5, 0.9), 0.15164090963470997, 1e-12);
  EXPECT_NEAR(RegularizedIncompleteBeta(1, 1, 0.25), 0.25, 1e-14);
  EXPECT_NEAR(RegularizedIncompleteBeta(50, 40, 0.6), 0.8011534179744884, 1e-11);
  EXPECT_EQ(RegularizedIncompleteBeta(3, 4, 0.0), 0.0);
  EXPECT_EQ(RegularizedIncompleteBeta(3, 4, 1.0), 1.0);
  EXPECT_THROW(RegularizedIncompleteBeta(0, 1, 0.5), Error);
  EXPECT_THROW(RegularizedIncompleteBeta(1, 1, 1.5), Error);
}

// Reference values from:
//   /usr/bin/python3 -c "from scipy import stats; print(repr(stats.t.cdf(t, df)))"
TEST(StatisticsTest, StudentTCdfMatchesScipy) {
  EXPECT_DOUBLE_EQ(StudentTCdf(0, 3), 0.5);
  EXPECT_NEAR(StudentTCdf(1.0, 1), 0.75, 1e-14);  // Cauchy: 1/2 + atan(1)/pi
  EXPECT_NEAR(StudentTCdf(2.0, 2), 0.908248290463863, 1e-13);
  EXPECT_NEAR(StudentTCdf(-1.5, 4.5), 0.10010954282807658, 1e-12);
  EXPECT_NEAR(StudentTCdf(3.873, 2.941), 0.9842173712287372, 1e-12);
  EXPECT_NEAR(StudentTCdf(2.5, 30), 0.9909421754659666, 1e-12);
  EXPECT_NEAR(StudentTCdf(-0.3, 7.25), 0.38629841688197364, 1e-12);
  EXPECT_NEAR(StudentTCdf(10, 3), 0.9989358004707929, 1e-12);
  EXPECT_NEAR(StudentTCdf(1.96, 1000), 0.9748634075221256, 1e-12);
  EXPECT_EQ(StudentTCdf(INFINITY, 3), 1.0);
  EXPECT_THROW(StudentTCdf(1.0, 0), Error);
}

// Live cross-check over a grid against Debian's scipy, when it is installed.
TEST(StatisticsTest, StudentTCdfGridMatchesLiveScipy) {
  const std::vector<double> ts = {-8, -3.2, -1, -0.1, 0.4, 1.7, 2.9, 6.5};
  const std::vector<double> dfs = {1, 1.5, 2.2, 4, 9.7, 25, 120};
  std::ostringstream script;
  script << "/usr/bin/python3 -c \"from scipy import stats\nfor t in "
         << "[";
  for (double t : ts) script << t << ",";
  script << "]:\n for d in [";
  for (double d : dfs) script << d << ",";
  script << "]: print(repr(float(stats.t.cdf(t, d))))\" 2>/dev/null";
  FILE* pipe = popen(script.str().c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::vector<double> expected;
  char line[128];
  while (fgets(line, sizeof line, pipe)) expected.push_back(std::stod(line));
  const int status = pclose(pipe);
  if (status != 0 || expected.empty()) GTEST_SKIP() << "/usr/bin/python3 with scipy not available";
  ASSERT_EQ(expected.size(), ts.size() * dfs.size());
  size_t k = 0;
  for (double t : ts)
    for (double d : dfs) {
      EXPECT_NEAR(StudentTCdf(t, d), expected[k], 1e-11) << "t=" << t << " df=" << d;
      ++k;
    }
}

TEST(StatisticsTest, WelchWorkedByHand) {
  // A = {52, 54, 56}: mean 54, var 4. B = {48, 50, 49}: mean 49, var 1.
  // se^2 = 4/3 + 1/3 = 5/3; t = 5 / sqrt(5/3) = sqrt(15) = 3.8730.
  // df = (5/3)^2 / ((4/3)^2/2 + (1/3)^2/2) = (25/9) / (17/18) = 50/17 = 2.9412.
  // p = P(T_{50/17} > sqrt 15) = 0.015781115812839246, from
  //   stats.ttest_ind([52,54,56],[48,50,49],equal_var=False,alternative='greater')
  const WelchTest test = WelchTTest({52, 54, 56}, {48, 50, 49});
  EXPECT_NEAR(test.t, std::sqrt(15.0), 1e-12);
  EXPECT_NEAR(test.df, 50.0 / 17.0, 1e-12);
  EXPECT_NEAR(test.p_greater, 0.015781115812839246, 1e-12);
  // Swapping the sides gives the other tail.
  EXPECT_NEAR(WelchTTest({48, 50, 49}, {52, 54, 56}).p_greater, 1 - 0.015781115812839246, 1e-12);
}

TEST(StatisticsTest, WelchWithZeroVarianceIsExact) {
  EXPECT_EQ(WelchTTest({3, 3}, {2, 2}).p_greater, 0.0);
  EXPECT_EQ(WelchTTest({2, 2}, {3, 3}).p_greater, 1.0);
  EXPECT_EQ(WelchTTest({2, 2}, {2, 2}).p_greater, 0.5);
  EXPECT_THROW(WelchTTest({1}, {2, 3}), Error);
}

}  // namespace
}  // namespace scratchdet::report
