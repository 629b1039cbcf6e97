#include "scratchdet/eval/voc_ap.h"

#include <gtest/gtest.h>

#include "scratchdet/core/error.h"

namespace scratchdet::eval {
namespace {

TEST(VocApTest, NoDetectionsIsZero) {
  EXPECT_EQ(VocAveragePrecision({}, {}, VocApMetric::kVoc07), 0.0);
  EXPECT_EQ(VocAveragePrecision({}, {}, VocApMetric::kArea), 0.0);
}

TEST(VocApTest, TwoPointCurve) {
  // recall .5 at precision 1, recall 1 at precision .5.
  // 11-point: t = 0..0.5 (6 points) -> 1, t = 0.6..1 (5 points) -> 0.5: 8.5 / 11.
  // Area: 0.5 * 1 + 0.5 * 0.5 = 0.75.
  EXPECT_DOUBLE_EQ(VocAveragePrecision({0.5, 1.0}, {1.0, 0.5}, VocApMetric::kVoc07), 8.5 / 11);
  EXPECT_DOUBLE_EQ(VocAveragePrecision({0.5, 1.0}, {1.0, 0.5}, VocApMetric::kArea), 0.75);
}

TEST(VocApTest, NonMonotonePrecisionUsesTheEnvelope) {
  // TP, FP, TP, TP with 4 positives: recall .25 .25 .5 .75, precision 1 .5 2/3 .75.
  // 11-point: t <= .2 -> 1 (3 points); .3 <= t <= .7 -> .75 (5 points); t >= .8 -> 0.
  // Area: envelope 1 up to recall .25, then .75 up to .75: .25 + .5 * .75 = .625.
  const std::vector<double> recall = {0.25, 0.25, 0.5, 0.75};
  const std::vector<double> precision = {1.0, 0.5, 2.0 / 3.0, 0.75};
  EXPECT_DOUBLE_EQ(VocAveragePrecision(recall, precision, VocApMetric::kVoc07), 6.75 / 11);
  EXPECT_DOUBLE_EQ(VocAveragePrecision(recall, precision, VocApMetric::kArea), 0.625);
}

TEST(VocApTest, RecallOfExactlyThreeTenthsReachesPointThree) {
  // 3 of 10 positives found: recall 3/10 counts for t = 0, .1, .2, .3 (4 of 11 points).
  EXPECT_DOUBLE_EQ(VocAveragePrecision({3.0 / 10.0}, {1.0}, VocApMetric::kVoc07), 4.0 / 11);
  EXPECT_DOUBLE_EQ(VocAveragePrecision({3.0 / 10.0}, {1.0}, VocApMetric::kArea), 0.3);
}

TEST(VocApTest, PerfectCurveIsOne) {
  EXPECT_DOUBLE_EQ(VocAveragePrecision({0.5, 1.0}, {1.0, 1.0}, VocApMetric::kVoc07), 1.0);
  EXPECT_DOUBLE_EQ(VocAveragePrecision({0.5, 1.0}, {1.0, 1.0}, VocApMetric::kArea), 1.0);
}

TEST(VocApTest, MetricNamesRoundTrip) {
  EXPECT_EQ(ParseVocApMetric("voc07"), VocApMetric::kVoc07);
  EXPECT_EQ(ParseVocApMetric("area"), VocApMetric::kArea);
  EXPECT_EQ(ToString(VocApMetric::kArea), "area");
  EXPECT_THROW(ParseVocApMetric("voc12"), Error);
}

TEST(VocApTest, LengthMismatchThrows) {
  EXPECT_THROW(VocAveragePrecision({0.5}, {1.0, 0.5}, VocApMetric::kArea), Error);
}

}  // namespace
}  // namespace scratchdet::eval
