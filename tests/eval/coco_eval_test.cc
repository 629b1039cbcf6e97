#include "scratchdet/eval/coco_eval.h"

#include <gtest/gtest.h>

#include <limits>
#include <nlohmann/json.hpp>

#include "scratchdet/core/error.h"

namespace scratchdet::eval {
namespace {

enum Stat { kAP, kAP50, kAP75, kAPs, kAPm, kAPl, kAR1, kAR10, kAR100, kARs, kARm, kARl };

CocoGroundTruth Gt(int64_t image, double x, double y, double w, double h, bool crowd = false,
                   int64_t category = 1) {
  return {image, category, x, y, w, h, w * h, crowd};
}

CocoDetection Det(int64_t image, double score, double x, double y, double w, double h,
                  int64_t category = 1) {
  return {image, category, score, x, y, w, h};
}

void ExpectStats(const CocoEvalResult& r, const std::array<double, 12>& expected) {
  for (int i = 0; i < 12; ++i) EXPECT_NEAR(r.stats[i], expected[i], 1e-12) << CocoStatNames()[i];
}

TEST(CocoEvalTest, PerfectDetectionIsOne) {
  // One medium object (40x40 = 1600 px), found exactly: every defined number is 1; the small
  // and large ranges have no ground truth -> -1.
  const auto r = EvaluateCoco({Gt(1, 10, 10, 40, 40)}, {Det(1, 0.9, 10, 10, 40, 40)});
  ExpectStats(r, {1, 1, 1, -1, 1, -1, 1, 1, 1, -1, 1, -1});
  // Precision is tp / (tp + fp + eps) as in pycocotools, so 1 - 2e-16 rather than 1.
  EXPECT_NEAR(*r.per_category_ap.at(1), 1.0, 1e-12);
  EXPECT_EQ(r.num_images, 1);
}

TEST(CocoEvalTest, FalsePositiveAboveTruePositive) {
  // FP (score .9) then TP (.8): recall 0, 1 and precision 0, 1/2 -> the envelope is 1/2 at
  // every recall point, AP = 1/2 at every threshold. Only the FP fits maxDets = 1: AR1 = 0.
  const auto r = EvaluateCoco({Gt(1, 10, 10, 40, 40)},
                              {Det(1, 0.9, 200, 200, 40, 40), Det(1, 0.8, 10, 10, 40, 40)});
  ExpectStats(r, {0.5, 0.5, 0.5, -1, 0.5, -1, 0, 1, 1, -1, 1, -1});
}

TEST(CocoEvalTest, IouThresholdsFromHalfToNinetyFive) {
  // IoU = 40*30 / (40*40) = .75: a match at t = .50, .55, ..., .75 (6 of 10 thresholds).
  const auto r = EvaluateCoco({Gt(1, 0, 0, 40, 40)}, {Det(1, 0.9, 0, 0, 40, 30)});
  ExpectStats(r, {0.6, 1, 1, -1, 0.6, -1, 0.6, 0.6, 0.6, -1, 0.6, -1});
}

TEST(CocoEvalTest, CrowdAbsorbsDetectionsWithoutCountingAsPositive) {
  // A regular object and a crowd region. Two detections inside the crowd have IoU 1 with it
  // (intersection / detection area), both match it (a crowd matches many) and are ignored;
  // the crowd is not a positive. AP = AR = 1.
  const std::vector<CocoGroundTruth> gts = {Gt(1, 10, 10, 40, 40),
                                            Gt(1, 100, 100, 200, 200, /*crowd=*/true)};
  const std::vector<CocoDetection> dets = {
      Det(1, 0.95, 120, 120, 50, 50), Det(1, 0.9, 10, 10, 40, 40), Det(1, 0.85, 200, 200, 60, 60)};
  const auto crowd = EvaluateCoco(gts, dets);
  EXPECT_NEAR(crowd.stats[kAP], 1.0, 1e-12);
  EXPECT_NEAR(crowd.stats[kAR100], 1.0, 1e-12);
  // The same region as a regular object (large, 40000 px): both detections become FPs (IoU
  // 2500/40000 and 3600/40000) and it is a missed positive. At every threshold: FP, TP, FP
  // with 2 positives -> recall 0, 1/2, 1/2, precision 0, 1/2, 1/3 -> AP 1/2 up to recall 1/2,
  // 0 beyond: 51 of 101 points at 1/2.
  auto regular = gts;
  regular[1].iscrowd = false;
  const auto r = EvaluateCoco(regular, dets);
  EXPECT_NEAR(r.stats[kAP], 0.5 * 51 / 101, 1e-12);
  EXPECT_NEAR(r.stats[kAR100], 0.5, 1e-12);
  EXPECT_NEAR(r.stats[kAPl], 0.0, 1e-12);  // the large object is never found
}

TEST(CocoEvalTest, RegularMatchPreferredOverCrowd) {
  // A detection overlapping a regular object (IoU 1) and lying inside a crowd (IoU 1 too): it
  // must take the regular object (TP), not be ignored by the crowd.
  const auto r = EvaluateCoco({Gt(1, 0, 0, 300, 300, true), Gt(1, 10, 10, 40, 40)},
                              {Det(1, 0.9, 10, 10, 40, 40)});
  EXPECT_NEAR(r.stats[kAP], 1.0, 1e-12);
  EXPECT_NEAR(r.stats[kAR1], 1.0, 1e-12);
}

TEST(CocoEvalTest, AreaRanges) {
  // A small (20x20 = 400) and a large (100x100) object, found; a medium (40x40) FP on top.
  // all: FP, TP, TP -> precision envelope 2/3 everywhere -> AP 2/3.
  // small/large: the unmatched medium FP is outside the range -> ignored -> 1.
  // medium: no ground truth -> -1.
  const auto r = EvaluateCoco(
      {Gt(1, 0, 0, 20, 20), Gt(1, 200, 200, 100, 100)},
      {Det(1, 0.95, 50, 50, 40, 40), Det(1, 0.9, 0, 0, 20, 20), Det(1, 0.8, 200, 200, 100, 100)});
  // maxDets 1 keeps only the image's top detection, the FP: AR1 = 0.
  ExpectStats(r, {2.0 / 3, 2.0 / 3, 2.0 / 3, 1, -1, 1, 0, 1, 1, 1, -1, 1});
}

TEST(CocoEvalTest, AreaRangeUsesTheAnnotationAreaField) {
  // A 100x100 box whose `area` (segmentation area) is 500 counts as small, not large.
  CocoGroundTruth gt = Gt(1, 0, 0, 100, 100);
  gt.area = 500;
  const auto r = EvaluateCoco({gt}, {Det(1, 0.9, 0, 0, 100, 100)});
  EXPECT_NEAR(r.stats[kAPs], 1.0, 1e-12);
  EXPECT_EQ(r.stats[kAPl], -1);
}

TEST(CocoEvalTest, MaxDetsLimitsDetectionsPerImage) {
  // Two FPs above the TP: AR1 = 0 (only the top FP), AR10 = AR100 = 1;
  // AP: recall 0, 0, 1 with precision 0, 0, 1/3 -> 1/3.
  const std::vector<CocoGroundTruth> gts = {Gt(1, 10, 10, 40, 40)};
  const auto r = EvaluateCoco(gts, {Det(1, 0.9, 200, 200, 40, 40), Det(1, 0.8, 300, 300, 40, 40),
                                    Det(1, 0.7, 10, 10, 40, 40)});
  EXPECT_NEAR(r.stats[kAR1], 0.0, 1e-12);
  EXPECT_NEAR(r.stats[kAR10], 1.0, 1e-12);
  EXPECT_NEAR(r.stats[kAP], 1.0 / 3, 1e-12);
  // 100 FPs above the TP: it is the 101st detection of the image, dropped -> AP = AR100 = 0.
  std::vector<CocoDetection> many;
  for (int i = 0; i < 100; ++i) many.push_back(Det(1, 0.9, 500 + i, 500, 40, 40));
  many.push_back(Det(1, 0.5, 10, 10, 40, 40));
  const auto dropped = EvaluateCoco(gts, many);
  EXPECT_EQ(dropped.stats[kAP], 0.0);
  EXPECT_EQ(dropped.stats[kAR100], 0.0);
  // With max_dets 1/10/200 it is kept again.
  CocoEvalOptions options;
  options.max_dets = {1, 10, 200};
  EXPECT_NEAR(EvaluateCoco(gts, many, options).stats[kAR100], 1.0, 1e-12);
}

TEST(CocoEvalTest, CategoriesAndImagesAreSeparate) {
  // Category 2's detection on category 1's object is an FP of category 2, which has no
  // ground truth and is excluded; category 1 (found) has AP 1. A detection on image 2 (no
  // ground truth of category 1 there) is an FP for category 1.
  const auto r = EvaluateCoco({Gt(1, 10, 10, 40, 40)},
                              {Det(1, 0.9, 10, 10, 40, 40), Det(1, 0.95, 10, 10, 40, 40, 2)});
  EXPECT_NEAR(r.stats[kAP], 1.0, 1e-12);
  EXPECT_FALSE(r.per_category_ap.at(2).has_value());
  const auto other_image = EvaluateCoco(
      {Gt(1, 10, 10, 40, 40)}, {Det(2, 0.95, 10, 10, 40, 40), Det(1, 0.9, 10, 10, 40, 40)});
  EXPECT_NEAR(other_image.stats[kAP], 0.5, 1e-12);
  EXPECT_EQ(other_image.num_images, 2);
}

TEST(CocoEvalTest, NoGroundTruthIsMinusOne) {
  const auto r = EvaluateCoco({}, {Det(1, 0.9, 10, 10, 40, 40)});
  for (double s : r.stats) EXPECT_EQ(s, -1);
}

TEST(CocoEvalTest, JsonAndSummary) {
  const auto r = EvaluateCoco({Gt(1, 10, 10, 40, 40)}, {Det(1, 0.9, 10, 10, 40, 40)});
  const nlohmann::json j = ToJson(r);
  EXPECT_NEAR(j["AP"].get<double>(), 1.0, 1e-12);
  EXPECT_EQ(j["APs"], -1.0);
  EXPECT_NEAR(j["per_category"]["1"].get<double>(), 1.0, 1e-12);
  EXPECT_EQ(j["max_dets"], nlohmann::json({1, 10, 100}));
  EXPECT_EQ(j["num_detections"], 1);
  const std::string summary = FormatCocoSummary(r);
  EXPECT_NE(summary.find(
                " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 1.000"),
            std::string::npos)
      << summary;
  EXPECT_NE(summary.find(
                " Average Recall     (AR) @[ IoU=0.50:0.95 | area= small | maxDets=100 ] = -1.000"),
            std::string::npos)
      << summary;
}

TEST(CocoEvalTest, BadInputsThrow) {
  EXPECT_THROW(EvaluateCoco({Gt(1, 0, 0, -1, 5)}, {}), Error);
  EXPECT_THROW(EvaluateCoco({}, {Det(1, std::numeric_limits<double>::quiet_NaN(), 0, 0, 1, 1)}),
               Error);
  CocoEvalOptions options;
  options.max_dets = {10, 1, 100};
  EXPECT_THROW(EvaluateCoco({}, {}, options), Error);
}

}  // namespace
}  // namespace scratchdet::eval
