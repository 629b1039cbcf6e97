#include "scratchdet/report/statistics.h"

#include <cmath>
#include <limits>

#include "scratchdet/core/error.h"

namespace scratchdet::report {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Continued fraction of I_x(a,b) (Abramowitz & Stegun 26.5.8), evaluated with the modified
// Lentz method; converges quickly for x < (a+1)/(a+b+2).
double BetaContinuedFraction(double a, double b, double x) {
  constexpr double kTiny = 1e-300;
  constexpr double kEps = 1e-15;
  double c = 1.0;
  double d = 1.0 - (a + b) * x / (a + 1.0);
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1.0 / d;
  double result = d;
  for (int m = 1; m <= 1000; ++m) {
    // Even term d_{2m}, then odd term d_{2m+1}.
    const double even = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
    d = 1.0 + even * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + even / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    result *= d * c;
    const double odd = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
    d = 1.0 + odd * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + odd / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    const double step = d * c;
    result *= step;
    if (std::fabs(step - 1.0) < kEps) return result;
  }
  Fail("incomplete beta: continued fraction did not converge for a={}, b={}, x={}", a, b, x);
}

}  // namespace

double Mean(const std::vector<double>& values) {
  if (values.empty()) return kNaN;
  double sum = 0;
  for (double v : values) sum += v;
  return sum / values.size();
}

double SampleStd(const std::vector<double>& values) {
  if (values.empty()) return kNaN;
  if (values.size() == 1) return 0.0;
  const double mean = Mean(values);
  double squares = 0;
  for (double v : values) squares += (v - mean) * (v - mean);
  return std::sqrt(squares / (values.size() - 1));
}

double RegularizedIncompleteBeta(double a, double b, double x) {
  if (!(a > 0) || !(b > 0) || !(x >= 0 && x <= 1))
    Fail("incomplete beta: need a > 0, b > 0, 0 <= x <= 1; got a={}, b={}, x={}", a, b, x);
  if (x == 0 || x == 1) return x;
  // Prefactor x^a (1-x)^b / (a B(a,b)) in log space so large a, b do not overflow.
  const double log_front =
      std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
  if (x < (a + 1.0) / (a + b + 2.0))
    return std::exp(log_front) * BetaContinuedFraction(a, b, x) / a;
  return 1.0 - std::exp(log_front) * BetaContinuedFraction(b, a, 1.0 - x) / b;
}

double StudentTCdf(double t, double df) {
  if (!(df > 0)) Fail("Student t CDF: degrees of freedom must be > 0, got {}", df);
  if (std::isnan(t)) return kNaN;
  if (std::isinf(t)) return t > 0 ? 1.0 : 0.0;
  const double tail = 0.5 * RegularizedIncompleteBeta(df / 2.0, 0.5, df / (df + t * t));
  return t >= 0 ? 1.0 - tail : tail;
}

WelchTest WelchTTest(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() < 2 || b.size() < 2)
    Fail("Welch t-test needs at least two values per side, got {} and {}", a.size(), b.size());
  const double va = SampleStd(a) * SampleStd(a) / a.size();
  const double vb = SampleStd(b) * SampleStd(b) / b.size();
  const double diff = Mean(a) - Mean(b);
  WelchTest test;
  if (va + vb == 0) {
    test.t = diff > 0   ? std::numeric_limits<double>::infinity()
             : diff < 0 ? -std::numeric_limits<double>::infinity()
                        : 0.0;
    test.df = kNaN;
    test.p_greater = diff > 0 ? 0.0 : diff < 0 ? 1.0 : 0.5;
    return test;
  }
  test.t = diff / std::sqrt(va + vb);
  test.df = (va + vb) * (va + vb) / (va * va / (a.size() - 1.0) + vb * vb / (b.size() - 1.0));
  test.p_greater = StudentTCdf(-test.t, test.df);  // upper tail without cancellation
  return test;
}

}  // namespace scratchdet::report
