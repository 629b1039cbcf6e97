#include "scratchdet/eval/voc_eval.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "scratchdet/core/error.h"

namespace scratchdet::eval {
namespace {

VocGroundTruth Gt(const std::string& image, int cls, double x1, double y1, double x2, double y2,
                  bool difficult = false) {
  return {image, cls, x1, y1, x2, y2, difficult};
}

VocDetection Det(const std::string& image, int cls, double score, double x1, double y1, double x2,
                 double y2) {
  return {image, cls, score, x1, y1, x2, y2};
}

VocEvalOptions Options(VocApMetric metric, IouThresholdMode mode) {
  VocEvalOptions options;
  options.metric = metric;
  options.threshold_mode = mode;
  return options;
}

const std::vector<std::string> kOneClass = {"dog"};

TEST(VocEvalTest, IouOfExactlyHalfSeparatesDevkitFromStrict) {
  // +1 pixel: the ground truth is 10x10 = 100, the detection its top half 10x5 = 50, so
  // IoU = 50 / 100 = 0.5 exactly. devkit (>=) -> TP, AP 1; strict (>) -> FP, AP 0.
  const std::vector<VocGroundTruth> gts = {Gt("a", 0, 1, 1, 10, 10)};
  const std::vector<VocDetection> dets = {Det("a", 0, 0.9, 1, 1, 10, 5)};
  for (VocApMetric metric : {VocApMetric::kVoc07, VocApMetric::kArea}) {
    const auto devkit =
        EvaluateVoc(kOneClass, gts, dets, Options(metric, IouThresholdMode::kDevkit));
    EXPECT_DOUBLE_EQ(*devkit.per_class[0].ap, 1.0);
    EXPECT_EQ(devkit.per_class[0].num_tp, 1);
    const auto strict =
        EvaluateVoc(kOneClass, gts, dets, Options(metric, IouThresholdMode::kStrict));
    EXPECT_DOUBLE_EQ(*strict.per_class[0].ap, 0.0);
    EXPECT_EQ(strict.per_class[0].num_fp, 1);
  }
  // Without +1: 9x9 = 81 and 9x4 = 36 -> IoU 0.444, FP in both modes.
  VocEvalOptions no_plus_one;
  no_plus_one.plus_one = false;
  EXPECT_DOUBLE_EQ(*EvaluateVoc(kOneClass, gts, dets, no_plus_one).per_class[0].ap, 0.0);
}

TEST(VocEvalTest, DuplicateDetectionIsFalsePositive) {
  // Two ground truths; scores .9 on g1 (TP), .8 on g1 again (FP), .7 on g2 (TP).
  // precision 1, 1/2, 2/3; recall 1/2, 1/2, 1.
  // 11-point: t <= .5 -> 1 (6 points), t >= .6 -> 2/3 (5 points): (6 + 10/3) / 11 = 28/33.
  // Area: .5 * 1 + .5 * 2/3 = 5/6.
  const std::vector<VocGroundTruth> gts = {Gt("a", 0, 1, 1, 10, 10), Gt("a", 0, 50, 50, 80, 80)};
  const std::vector<VocDetection> dets = {Det("a", 0, 0.9, 1, 1, 10, 10),
                                          Det("a", 0, 0.8, 1, 1, 10, 10),
                                          Det("a", 0, 0.7, 50, 50, 80, 80)};
  for (IouThresholdMode mode : {IouThresholdMode::kDevkit, IouThresholdMode::kStrict}) {
    const auto voc07 = EvaluateVoc(kOneClass, gts, dets, Options(VocApMetric::kVoc07, mode));
    const VocClassResult& c = voc07.per_class[0];
    EXPECT_DOUBLE_EQ(*c.ap, 28.0 / 33.0);
    EXPECT_EQ(c.num_tp, 2);
    EXPECT_EQ(c.num_fp, 1);
    EXPECT_EQ(c.npos, 2);
    ASSERT_EQ(c.precision.size(), 3u);
    EXPECT_DOUBLE_EQ(c.precision[1], 0.5);
    EXPECT_DOUBLE_EQ(c.precision[2], 2.0 / 3.0);
    EXPECT_DOUBLE_EQ(c.recall[0], 0.5);
    EXPECT_DOUBLE_EQ(c.recall[2], 1.0);
    const auto area = EvaluateVoc(kOneClass, gts, dets, Options(VocApMetric::kArea, mode));
    EXPECT_DOUBLE_EQ(*area.per_class[0].ap, 5.0 / 6.0);
  }
}

TEST(VocEvalTest, BestMatchIsTakenEvenIfAnotherGroundTruthIsFree) {
  // g1 = 10x10, g2 = 10x12 containing it. Both detections equal g1: the first takes g1
  // (IoU 1); the second's best match is still g1 (1 > 100/120) -> FP, although its IoU with the
  // free g2 is .83. recall .5 .5, precision 1 .5 -> 11-point 6/11, area .5.
  const std::vector<VocGroundTruth> gts = {Gt("a", 0, 0, 0, 9, 9), Gt("a", 0, 0, 0, 9, 11)};
  const std::vector<VocDetection> dets = {Det("a", 0, 0.9, 0, 0, 9, 9),
                                          Det("a", 0, 0.8, 0, 0, 9, 9)};
  const auto voc07 = EvaluateVoc(kOneClass, gts, dets);
  EXPECT_DOUBLE_EQ(*voc07.per_class[0].ap, 6.0 / 11.0);
  EXPECT_EQ(voc07.per_class[0].num_fp, 1);
  EXPECT_DOUBLE_EQ(
      *EvaluateVoc(kOneClass, gts, dets, Options(VocApMetric::kArea, IouThresholdMode::kDevkit))
           .per_class[0]
           .ap,
      0.5);
}

TEST(VocEvalTest, DifficultMatchIsIgnored) {
  // g1 normal, g2 difficult. Detection .9 hits g2 (ignored, not FP), .8 hits g1 (TP), .7 hits
  // g2 loosely below the threshold (FP). npos = 1; curve: (recall 1, precision 1), then
  // (1, 1/2): AP 1 in both metrics. Counting the ignored hit as FP would give precision 1/2.
  const std::vector<VocGroundTruth> gts = {Gt("a", 0, 1, 1, 10, 10),
                                           Gt("a", 0, 100, 100, 120, 120, /*difficult=*/true)};
  const std::vector<VocDetection> dets = {Det("a", 0, 0.9, 100, 100, 120, 120),
                                          Det("a", 0, 0.8, 1, 1, 10, 10),
                                          Det("a", 0, 0.7, 100, 100, 105, 105)};
  for (VocApMetric metric : {VocApMetric::kVoc07, VocApMetric::kArea}) {
    const auto r = EvaluateVoc(kOneClass, gts, dets, Options(metric, IouThresholdMode::kDevkit));
    const VocClassResult& c = r.per_class[0];
    EXPECT_DOUBLE_EQ(*c.ap, 1.0);
    EXPECT_EQ(c.npos, 1);
    EXPECT_EQ(c.num_difficult, 1);
    EXPECT_EQ(c.num_ignored, 1);
    EXPECT_EQ(c.num_tp, 1);
    EXPECT_EQ(c.num_fp, 1);
    EXPECT_EQ(c.num_detections, 3);
    EXPECT_EQ(c.precision, (std::vector<double>{1.0, 0.5}));
  }
}

TEST(VocEvalTest, UndefinedAndZeroClasses) {
  // cat: perfect (AP 1). dog: detections but no ground truth -> undefined, excluded.
  // cow: ground truth, no detections -> 0. bird: only a difficult ground truth -> undefined.
  // mAP = (1 + 0) / 2.
  const std::vector<std::string> names = {"cat", "dog", "cow", "bird"};
  const std::vector<VocGroundTruth> gts = {Gt("a", 0, 1, 1, 10, 10), Gt("a", 2, 20, 20, 30, 30),
                                           Gt("b", 3, 1, 1, 10, 10, true)};
  const std::vector<VocDetection> dets = {Det("a", 0, 0.9, 1, 1, 10, 10),
                                          Det("a", 1, 0.9, 1, 1, 10, 10)};
  const VocEvalResult r = EvaluateVoc(names, gts, dets);
  ASSERT_EQ(r.per_class.size(), 4u);
  EXPECT_DOUBLE_EQ(*r.per_class[0].ap, 1.0);
  EXPECT_FALSE(r.per_class[1].ap.has_value());
  EXPECT_DOUBLE_EQ(*r.per_class[2].ap, 0.0);
  EXPECT_FALSE(r.per_class[3].ap.has_value());
  EXPECT_EQ(r.excluded_classes, (std::vector<std::string>{"dog", "bird"}));
  ASSERT_TRUE(r.mean_ap.has_value());
  EXPECT_DOUBLE_EQ(*r.mean_ap, 0.5);

  const nlohmann::json j = ToJson(r);
  EXPECT_DOUBLE_EQ(j["mAP"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(j["per_class"]["cat"].get<double>(), 1.0);
  EXPECT_TRUE(j["per_class"]["dog"].is_null());
  EXPECT_DOUBLE_EQ(j["per_class"]["cow"].get<double>(), 0.0);
  EXPECT_EQ(j["excluded_classes"], nlohmann::json({"dog", "bird"}));
  EXPECT_EQ(j["npos"]["cow"], 1);
  EXPECT_EQ(j["npos"]["bird"], 0);
  EXPECT_EQ(j["metric"], "voc07");
  EXPECT_EQ(j["threshold_mode"], "devkit");
  EXPECT_EQ(j["plus_one"], true);
  EXPECT_DOUBLE_EQ(j["iou_threshold"].get<double>(), 0.5);
}

TEST(VocEvalTest, NoDefinedClassGivesNullMap) {
  const VocEvalResult r = EvaluateVoc(kOneClass, {}, {Det("a", 0, 0.5, 1, 1, 2, 2)});
  EXPECT_FALSE(r.mean_ap.has_value());
  EXPECT_TRUE(ToJson(r)["mAP"].is_null());
}

TEST(VocEvalTest, ScoreTiesKeepInputOrder) {
  // Equal scores: an FP (image without ground truth) and a TP. FP first -> precision 0, 1/2 at
  // recall 0, 1 -> AP 1/2 (both metrics); TP first -> precision 1, 1/2 at recall 1 -> AP 1.
  const std::vector<VocGroundTruth> gts = {Gt("a", 0, 1, 1, 10, 10)};
  const VocDetection fp = Det("b", 0, 0.5, 1, 1, 10, 10);
  const VocDetection tp = Det("a", 0, 0.5, 1, 1, 10, 10);
  for (VocApMetric metric : {VocApMetric::kVoc07, VocApMetric::kArea}) {
    const auto options = Options(metric, IouThresholdMode::kDevkit);
    EXPECT_DOUBLE_EQ(*EvaluateVoc(kOneClass, gts, {fp, tp}, options).per_class[0].ap, 0.5);
    EXPECT_DOUBLE_EQ(*EvaluateVoc(kOneClass, gts, {tp, fp}, options).per_class[0].ap, 1.0);
  }
}

TEST(VocEvalTest, ScoresNotInputOrderDecideRank) {
  // The TP has the higher score although it comes second: AP 1.
  const std::vector<VocGroundTruth> gts = {Gt("a", 0, 1, 1, 10, 10)};
  EXPECT_DOUBLE_EQ(
      *EvaluateVoc(kOneClass, gts, {Det("b", 0, 0.1, 1, 1, 10, 10), Det("a", 0, 0.2, 1, 1, 10, 10)})
           .per_class[0]
           .ap,
      1.0);
}

TEST(VocEvalTest, OtherClassesAndImagesDoNotMatch) {
  // A detection of class 1 on class 0's box, and class 0 in another image: both FP for
  // their class; class 0 keeps AP 0 with one FP.
  const std::vector<std::string> names = {"cat", "dog"};
  const std::vector<VocGroundTruth> gts = {Gt("a", 0, 1, 1, 10, 10), Gt("b", 1, 1, 1, 10, 10)};
  const auto r =
      EvaluateVoc(names, gts, {Det("a", 1, 0.9, 1, 1, 10, 10), Det("b", 0, 0.9, 1, 1, 10, 10)});
  EXPECT_DOUBLE_EQ(*r.per_class[0].ap, 0.0);
  EXPECT_DOUBLE_EQ(*r.per_class[1].ap, 0.0);
  EXPECT_EQ(r.per_class[0].num_fp, 1);
}

TEST(VocEvalTest, HigherIouThreshold) {
  // IoU 0.6 (+1): gt 10x10, detection 10x6 inside. Passes 0.5, fails 0.7.
  const std::vector<VocGroundTruth> gts = {Gt("a", 0, 1, 1, 10, 10)};
  const std::vector<VocDetection> dets = {Det("a", 0, 0.9, 1, 1, 10, 6)};
  VocEvalOptions options;
  EXPECT_DOUBLE_EQ(*EvaluateVoc(kOneClass, gts, dets, options).per_class[0].ap, 1.0);
  options.iou_threshold = 0.7;
  EXPECT_DOUBLE_EQ(*EvaluateVoc(kOneClass, gts, dets, options).per_class[0].ap, 0.0);
}

TEST(VocEvalTest, BadInputsThrow) {
  EXPECT_THROW(EvaluateVoc(kOneClass, {Gt("a", 1, 1, 1, 2, 2)}, {}), Error);
  EXPECT_THROW(EvaluateVoc(kOneClass, {}, {Det("a", -1, 0.5, 1, 1, 2, 2)}), Error);
  EXPECT_THROW(EvaluateVoc(kOneClass, {Gt("a", 0, 5, 1, 2, 2)}, {}), Error);
  EXPECT_THROW(EvaluateVoc(kOneClass, {}, {Det("a", 0, 0.5, 1, 3, 2, 2)}), Error);
  EXPECT_THROW(EvaluateVoc(kOneClass, {},
                           {Det("a", 0, std::numeric_limits<double>::quiet_NaN(), 1, 1, 2, 2)}),
               Error);
  VocEvalOptions options;
  options.iou_threshold = 1.5;
  EXPECT_THROW(EvaluateVoc(kOneClass, {}, {}, options), Error);
  EXPECT_THROW(ParseIouThresholdMode("loose"), Error);
  EXPECT_EQ(ParseIouThresholdMode("strict"), IouThresholdMode::kStrict);
}

}  // namespace
}  // namespace scratchdet::eval
