#include "scratchdet/box/postprocess.h"

#include <gtest/gtest.h>

#include <cmath>

#include "scratchdet/box/box_coder.h"
#include "scratchdet/core/error.h"

namespace scratchdet::box {
namespace {

const std::vector<double> kVariances = {0.1, 0.1, 0.2, 0.2};

torch::Tensor Rows(std::vector<float> values) { return torch::tensor(values).reshape({-1, 4}); }

std::vector<int64_t> ToVector(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kLong).contiguous();
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

TEST(NmsTest, WorkedByHand) {
  const torch::Tensor boxes = Rows({0, 0,  1, 1,    // 0: suppressed by 3 (IoU .5)
                                    0, 0,  1, .9,   // 1: suppressed by 3 (IoU .5 / .9)
                                    2, 2,  3, 3,    // 2: disjoint, kept
                                    0, 0,  1, .5,   // 3: best score, kept
                                    0, .4, 1, 1});  // 4: IoU .6 with 0, but 0 was suppressed;
                                                    //    .1 with 3 -> kept
  const torch::Tensor scores = torch::tensor({0.9f, 0.8f, 0.7f, 0.95f, 0.6f});
  EXPECT_EQ(ToVector(Nms(boxes, scores, 0.45)), (std::vector<int64_t>{3, 2, 4}));
  // IoU exactly .5 is not above a .5 threshold: box 0 survives box 3; box 1 (IoU .556 with 3)
  // does not, and box 4 (IoU .6 with 0) is now suppressed by 0.
  EXPECT_EQ(ToVector(Nms(boxes, scores, 0.5)), (std::vector<int64_t>{3, 0, 2}));
}

TEST(NmsTest, EqualScoresVisitLowerIndexFirst) {
  const torch::Tensor boxes = Rows({0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1});
  EXPECT_EQ(ToVector(Nms(boxes, torch::tensor({0.3f, 0.5f, 0.5f}), 0.45)),
            (std::vector<int64_t>{1}));
}

TEST(NmsTest, EmptyAndBadInputs) {
  EXPECT_EQ(Nms(torch::zeros({0, 4}), torch::zeros({0}), 0.45).numel(), 0);
  EXPECT_EQ(Nms(torch::zeros({0, 4}), torch::zeros({0}), 0.45).scalar_type(), torch::kLong);
  EXPECT_THROW(Nms(torch::zeros({3, 4}), torch::zeros({2}), 0.45), Error);
  EXPECT_THROW(Nms(torch::zeros({3, 5}), torch::zeros({3}), 0.45), Error);
}

// Priors p0 = [0, 0, .5, .5], p1 = [.05, 0, .55, .5] (IoU .818 with p0), p2 = [.5, .5, 1, 1];
// 3 classes. Logits: p0 (0, 3, 0), p1 (0, 2, 0), p2 (0, 0, 2.5).
struct TinyModel {
  torch::Tensor priors = CornerToCenter(Rows({0, 0, .5, .5, .05, 0, .55, .5, .5, .5, 1, 1}));
  torch::Tensor loc = torch::zeros({1, 3, 4});
  torch::Tensor conf =
      torch::tensor({0.0f, 3.0f, 0.0f, 0.0f, 2.0f, 0.0f, 0.0f, 0.0f, 2.5f}).reshape({1, 3, 3});
};

// Softmax scores of the tiny model.
const double kP0C1 = std::exp(3.0) / (std::exp(3.0) + 2);  // .909
const double kP1C2 = 1 / (std::exp(2.0) + 2);              // .107
const double kP2C1 = 1 / (std::exp(2.5) + 2);              // .071
const double kP2C2 = std::exp(2.5) / (std::exp(2.5) + 2);  // .859

TEST(PostProcessTest, EndToEndWorkedByHand) {
  // Class 1: p0 (.909), p1 (.787) and p2 (.071) pass .01; NMS drops p1 (IoU .818 with p0).
  // Class 2: p2 (.859), p1 (.107) and p0 (.045); NMS drops p0 (IoU .818 with p1).
  const TinyModel m;
  const std::vector<Detections> out = PostProcess(m.loc, m.conf, m.priors, kVariances);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(ToVector(out[0].labels), (std::vector<int64_t>{1, 2, 2, 1}));
  const std::vector<double> scores = {kP0C1, kP2C2, kP1C2, kP2C1};
  ASSERT_EQ(out[0].scores.numel(), 4);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(out[0].scores[i].item<float>(), scores[i], 1e-6);
  EXPECT_TRUE(torch::allclose(out[0].boxes,
                              Rows({0, 0, .5, .5, .5, .5, 1, 1, .05, 0, .55, .5, .5, .5, 1, 1})));
}

TEST(PostProcessTest, LimitsAndThreshold) {
  const TinyModel m;
  DetectionOptions keep3;
  keep3.keep_top_k = 3;
  EXPECT_EQ(ToVector(PostProcess(m.loc, m.conf, m.priors, kVariances, keep3)[0].labels),
            (std::vector<int64_t>{1, 2, 2}));
  // top_k 1: each class keeps only its best prior before NMS.
  DetectionOptions top1;
  top1.top_k = 1;
  EXPECT_EQ(ToVector(PostProcess(m.loc, m.conf, m.priors, kVariances, top1)[0].labels),
            (std::vector<int64_t>{1, 2}));
  DetectionOptions high;
  high.conf_threshold = 0.5;
  const Detections d = PostProcess(m.loc, m.conf, m.priors, kVariances, high)[0];
  EXPECT_EQ(ToVector(d.labels), (std::vector<int64_t>{1, 2}));
  EXPECT_NEAR(d.scores[1].item<float>(), kP2C2, 1e-6);
}

TEST(PostProcessTest, OffsetsAreDecoded) {
  // A batch of two: the second image moves p0 right by one unit (.1 * .5 = .05).
  TinyModel m;
  torch::Tensor loc = torch::zeros({2, 3, 4});
  loc[1][0][0] = 1.0f;
  const torch::Tensor conf = torch::cat({m.conf, m.conf});
  const std::vector<Detections> out = PostProcess(loc, conf, m.priors, kVariances);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(torch::allclose(out[0].boxes[0], torch::tensor({0.0f, 0.0f, .5f, .5f})));
  EXPECT_TRUE(torch::allclose(out[1].boxes[0], torch::tensor({.05f, 0.0f, .55f, .5f})));
}

TEST(PostProcessTest, NothingAboveThresholdGivesEmptyTensors) {
  const TinyModel m;
  DetectionOptions strict;
  strict.conf_threshold = 0.99;
  const Detections d = PostProcess(m.loc, m.conf, m.priors, kVariances, strict)[0];
  EXPECT_EQ(d.boxes.sizes(), (std::vector<int64_t>{0, 4}));
  EXPECT_EQ(d.scores.sizes(), (std::vector<int64_t>{0}));
  EXPECT_EQ(d.labels.sizes(), (std::vector<int64_t>{0}));
  EXPECT_EQ(d.labels.scalar_type(), torch::kLong);
}

TEST(PostProcessTest, BadShapesThrow) {
  const TinyModel m;
  EXPECT_THROW(PostProcess(m.loc, m.conf.narrow(2, 0, 1), m.priors, kVariances), Error);
  EXPECT_THROW(PostProcess(m.loc, m.conf, m.priors.narrow(0, 0, 2), kVariances), Error);
  EXPECT_THROW(PostProcess(m.loc.squeeze(0), m.conf, m.priors, kVariances), Error);
}

}  // namespace
}  // namespace scratchdet::box
