#include "scratchdet/data/rng.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

namespace scratchdet::data {
namespace {

TEST(RngTest, EngineIsTheStandardMt19937_64) {
  // The C++ standard fixes the 10000th output of a default-seeded mt19937_64.
  Rng rng(5489u);
  uint64_t value = 0;
  for (int i = 0; i < 10000; ++i) value = rng.NextU64();
  EXPECT_EQ(value, 9981545732273789042ULL);
}

TEST(RngTest, UniformIntCoversItsInclusiveRangeEvenly) {
  Rng rng(1);
  std::vector<int> counts(7, 0);
  for (int i = 0; i < 70000; ++i) {
    const int64_t v = rng.UniformInt(-3, 3);
    ASSERT_GE(v, -3);
    ASSERT_LE(v, 3);
    ++counts[v + 3];
  }
  for (const int c : counts) EXPECT_NEAR(c, 10000, 500);
}

TEST(RngTest, NormalHasUnitMomentsAndUniformStaysInRange) {
  Rng rng(2);
  double sum = 0, sum_sq = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double x = rng.Normal();
    sum += x;
    sum_sq += x * x;
    const double u = rng.Uniform(2.0, 3.0);
    ASSERT_GE(u, 2.0);
    ASSERT_LT(u, 3.0);
  }
  EXPECT_NEAR(sum / n, 0.0, 0.01);
  EXPECT_NEAR(sum_sq / n, 1.0, 0.01);
}

TEST(RngTest, StreamsAreKeyedAndReproducible) {
  EXPECT_EQ(Rng::Stream(7, {1, 2}).NextU64(), Rng::Stream(7, {1, 2}).NextU64());
  std::set<uint64_t> firsts;
  for (const auto& stream : {Rng::Stream(7, {1, 2}), Rng::Stream(7, {2, 1}), Rng::Stream(8, {1, 2}),
                             Rng::Stream(7, {1}), Rng::Stream(7, {})}) {
    Rng copy = stream;
    firsts.insert(copy.NextU64());
  }
  EXPECT_EQ(firsts.size(), 5u);
}

}  // namespace
}  // namespace scratchdet::data
