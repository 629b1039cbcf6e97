// The statistics behind the report: mean and spread over seeds, Student's t distribution and
// Welch's t-test. Written here (no statistics library is packaged for C++ on Debian); the
// t-distribution is checked against scipy in tests/reports/statistics_test.cc.
#pragma once

#include <vector>

namespace scratchdet::report {

// Arithmetic mean; NaN for an empty sample.
double Mean(const std::vector<double>& values);

// Sample standard deviation (divisor n-1); 0 for one value, NaN for none.
double SampleStd(const std::vector<double>& values);

// Regularized incomplete beta function I_x(a, b) for a, b > 0 and x in [0, 1], evaluated by its
// continued fraction (modified Lentz), using the symmetry I_x(a,b) = 1 - I_{1-x}(b,a) where the
// fraction converges slowly. Throws scratchdet::Error for arguments outside the domain.
double RegularizedIncompleteBeta(double a, double b, double x);

// Cumulative distribution function of Student's t with `df` > 0 (not necessarily integer)
// degrees of freedom: P(T <= t) = 1 - I_{df/(df+t^2)}(df/2, 1/2) / 2 for t >= 0.
double StudentTCdf(double t, double df);

struct WelchTest {
  double t = 0;          // (mean_a - mean_b) / sqrt(var_a/n_a + var_b/n_b)
  double df = 0;         // Welch-Satterthwaite degrees of freedom (NaN when both variances are 0)
  double p_greater = 0;  // one-sided p-value for H1: mean_a > mean_b
};

// Welch's unequal-variance t-test; both samples need at least two values (throws otherwise).
// When both samples have zero variance the statistic is +-inf (or 0 for equal means) and the
// p-value is 0, 1 (or 0.5): the difference is then exact, not noisy.
WelchTest WelchTTest(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace scratchdet::report
