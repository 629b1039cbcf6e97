#include "scratchdet/box/matcher.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "scratchdet/box/box_coder.h"
#include "scratchdet/box/priors.h"
#include "scratchdet/core/error.h"

namespace scratchdet::box {
namespace {

const std::vector<double> kVariances = {0.1, 0.1, 0.2, 0.2};

torch::Tensor Rows(std::vector<float> values) { return torch::tensor(values).reshape({-1, 4}); }

torch::Tensor Labels(std::vector<int64_t> values) { return torch::tensor(values); }

std::vector<int64_t> ToVector(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kLong).contiguous();
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

// Priors in corner form: p0 = [0, 0, .5, .5], p1 = [0, 0, .25, .5], p2 = [.5, .5, 1, 1].
// Ground truth A = [0, 0, .5, .5]: IoU 1 with p0, .125 / .25 = .5 with p1.
// Ground truth B = [0, 0, .5, .25]: IoU .125 / .25 = .5 with p0, .0625 / .1875 = 1/3 with p1.
// Both have p0 as their best prior.
const torch::Tensor& SharedBestPriors() {
  static const torch::Tensor priors =
      CornerToCenter(Rows({0, 0, .5, .5, 0, 0, .25, .5, .5, .5, 1, 1}));
  return priors;
}

TEST(MatcherTest, TwoGroundTruthsWithOneBestPriorBothKeepAPrior) {
  const torch::Tensor a = Rows({0, 0, .5, .5});
  const torch::Tensor b = Rows({0, 0, .5, .25});
  // A has the larger best IoU (1 > .5), so A takes p0 and B its next best free prior p1,
  // although IoU(B, p1) = 1/3 is below the threshold and p1's own best ground truth is A (.5).
  for (bool a_first : {true, false}) {
    const torch::Tensor boxes = a_first ? torch::cat({a, b}) : torch::cat({b, a});
    const torch::Tensor labels = a_first ? Labels({3, 7}) : Labels({7, 3});
    const MatchTargets t = MatchPriors({boxes}, {labels}, SharedBestPriors(), kVariances);
    ASSERT_EQ(t.labels.sizes(), (std::vector<int64_t>{1, 3}));
    ASSERT_EQ(t.loc.sizes(), (std::vector<int64_t>{1, 3, 4}));
    EXPECT_EQ(ToVector(t.labels[0]), (std::vector<int64_t>{3, 7, 0})) << "a_first " << a_first;
    // p0 holds A exactly: zero offsets.
    EXPECT_NEAR(t.loc[0][0].abs().sum().item<float>(), 0.0f, 1e-6);
    // p1 = centre (.125, .25) size (.25, .5); B = centre (.25, .125) size (.5, .25):
    // (.125 / (.1 * .25), -.125 / (.1 * .5), log 2 / .2, log .5 / .2).
    const float expected[4] = {5.0f, -2.5f, std::log(2.0f) / 0.2f, std::log(0.5f) / 0.2f};
    for (int d = 0; d < 4; ++d) EXPECT_NEAR(t.loc[0][1][d].item<float>(), expected[d], 1e-5);
    // Background priors get zero offsets.
    EXPECT_EQ(t.loc[0][2].abs().sum().item<float>(), 0.0f);
  }
}

TEST(MatcherTest, IouExactlyAtThresholdIsPositive) {
  // Ground truth [0, 0, 1, 1]. p0 is the same box (forced), p1 = [0, 0, .5, 1] has IoU exactly
  // .5, p2 = [0, 0, .4375, 1] has IoU .4375 (all values exact in binary).
  const torch::Tensor priors = CornerToCenter(Rows({0, 0, 1, 1, 0, 0, .5, 1, 0, 0, .4375, 1}));
  const torch::Tensor gt = Rows({0, 0, 1, 1});
  EXPECT_EQ(ToVector(MatchPriors({gt}, {Labels({2})}, priors, kVariances).labels[0]),
            (std::vector<int64_t>{2, 2, 0}));
  EXPECT_EQ(ToVector(MatchPriors({gt}, {Labels({2})}, priors, kVariances, 0.4375).labels[0]),
            (std::vector<int64_t>{2, 2, 2}));
  EXPECT_EQ(ToVector(MatchPriors({gt}, {Labels({2})}, priors, kVariances, 0.9).labels[0]),
            (std::vector<int64_t>{2, 0, 0}));
}

TEST(MatcherTest, UnforcedPriorTakesTheBestOverlappingGroundTruth) {
  // Priors p0 = [0, 0, .5, .5], p1 = [0, 0, .5, .6], p2 = [.5, .5, 1, 1], p3 = [0, 0, .5, .65];
  // ground truths A = [0, 0, .5, .5] (label 1), D = [0, 0, .5, .7] (label 2).
  // IoU(A, .) = 1, .25/.3, 0, .25/.325;  IoU(D, .) = .25/.35, .3/.35, 0, .325/.35.
  // Forced: A -> p0 (1), then D -> p3 (.929). p1 is free and overlaps both above .5; it takes D
  // (.857 > .833).
  const torch::Tensor priors =
      CornerToCenter(Rows({0, 0, .5, .5, 0, 0, .5, .6, .5, .5, 1, 1, 0, 0, .5, .65}));
  const torch::Tensor boxes = Rows({0, 0, .5, .5, 0, 0, .5, .7});
  const MatchTargets t = MatchPriors({boxes}, {Labels({1, 2})}, priors, kVariances);
  EXPECT_EQ(ToVector(t.labels[0]), (std::vector<int64_t>{1, 2, 0, 2}));
  const torch::Tensor expected_p1 =
      EncodeBoxes(Rows({0, 0, .5, .7}), priors.narrow(0, 1, 1), kVariances);
  EXPECT_TRUE(torch::allclose(t.loc[0][1], expected_p1[0]));
}

TEST(MatcherTest, ImageWithoutGroundTruthIsAllBackground) {
  const torch::Tensor priors = SharedBestPriors();
  const MatchTargets t =
      MatchPriors({Rows({0, 0, .5, .5}), torch::zeros({0, 4})},
                  {Labels({4}), torch::zeros({0}, torch::kLong)}, priors, kVariances);
  ASSERT_EQ(t.labels.sizes(), (std::vector<int64_t>{2, 3}));
  ASSERT_EQ(t.loc.sizes(), (std::vector<int64_t>{2, 3, 4}));
  EXPECT_EQ(t.labels.scalar_type(), torch::kLong);
  EXPECT_EQ(ToVector(t.labels[1]), (std::vector<int64_t>{0, 0, 0}));
  EXPECT_EQ(t.loc[1].abs().sum().item<float>(), 0.0f);
  EXPECT_EQ(ToVector(t.labels[0]), (std::vector<int64_t>{4, 4, 0}));
  // An empty batch gives empty batched targets.
  EXPECT_EQ(MatchPriors({}, {}, priors, kVariances).labels.sizes(), (std::vector<int64_t>{0, 3}));
}

TEST(MatcherTest, NoGroundTruthIsLostOnSsdPriors) {
  // Many small, heavily overlapping boxes compete for the same priors; each must still own at
  // least one prior (labels are the box index + 1, so every label must appear).
  const std::vector<FeatureMapSize> maps = {{38, 38}, {19, 19}, {10, 10}, {5, 5}, {3, 3}, {1, 1}};
  const torch::Tensor priors = GeneratePriors(BuiltinPriorConfig("ssd300_voc"), maps, 300, 300);
  torch::manual_seed(3);
  const int64_t g = 40;
  const torch::Tensor lo = torch::rand({g, 2}) * 0.1 + 0.45;
  const torch::Tensor boxes = torch::cat({lo, lo + torch::rand({g, 2}) * 0.05 + 0.01}, 1);
  const MatchTargets t =
      MatchPriors({boxes}, {torch::arange(1, g + 1, torch::kLong)}, priors, kVariances);
  const std::vector<int64_t> labels = ToVector(t.labels[0]);
  const std::set<int64_t> seen(labels.begin(), labels.end());
  EXPECT_EQ(seen.size(), static_cast<size_t>(g + 1));  // every box plus background
  EXPECT_TRUE(t.loc.isfinite().all().item<bool>());
}

TEST(MatcherTest, BatchEqualsImagesMatchedOneByOne) {
  // Images with 3, 0, 7 and 1 boxes are padded to 7 internally; padding must change nothing.
  const std::vector<FeatureMapSize> maps = {{38, 38}, {19, 19}, {10, 10}, {5, 5}, {3, 3}, {1, 1}};
  const torch::Tensor priors = GeneratePriors(BuiltinPriorConfig("ssd300_voc"), maps, 300, 300);
  torch::manual_seed(5);
  std::vector<torch::Tensor> boxes, labels;
  for (int64_t g : {3, 0, 7, 1}) {
    const torch::Tensor lo = torch::rand({g, 2}) * 0.6;
    boxes.push_back(torch::cat({lo, lo + torch::rand({g, 2}) * 0.4 + 0.02}, 1));
    labels.push_back(torch::randint(1, 21, {g}, torch::kLong));
  }
  const MatchTargets batch = MatchPriors(boxes, labels, priors, kVariances);
  for (size_t i = 0; i < boxes.size(); ++i) {
    const MatchTargets one = MatchPriors({boxes[i]}, {labels[i]}, priors, kVariances);
    EXPECT_TRUE(torch::equal(batch.labels[i], one.labels[0])) << "image " << i;
    EXPECT_TRUE(torch::equal(batch.loc[i], one.loc[0])) << "image " << i;
  }
  EXPECT_GT((batch.labels[2] > 0).sum().item<int64_t>(), 7);
}

TEST(MatcherTest, MoreGroundTruthsThanPriors) {
  // Three boxes, two priors: two boxes get a prior each, the third cannot; no crash.
  const torch::Tensor priors = CornerToCenter(Rows({0, 0, .5, .5, .5, .5, 1, 1}));
  const torch::Tensor boxes = Rows({0, 0, .5, .5, .5, .5, 1, 1, 0, 0, .4, .4});
  const MatchTargets t = MatchPriors({boxes}, {Labels({1, 2, 3})}, priors, kVariances);
  EXPECT_EQ(ToVector(t.labels[0]), (std::vector<int64_t>{1, 2}));
}

TEST(MatcherTest, KeepsThePriorsDtype) {
  const torch::Tensor priors = SharedBestPriors().to(torch::kDouble);
  const MatchTargets t = MatchPriors({Rows({0, 0, .5, .5})}, {Labels({1})}, priors, kVariances);
  EXPECT_EQ(t.loc.scalar_type(), torch::kDouble);
}

TEST(MatcherTest, BadInputsThrowNamingTheImage) {
  const torch::Tensor priors = SharedBestPriors();
  const torch::Tensor ok = Rows({0, 0, .5, .5});
  auto message = [&](const std::vector<torch::Tensor>& boxes,
                     const std::vector<torch::Tensor>& labels) -> std::string {
    try {
      MatchPriors(boxes, labels, priors, kVariances);
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_NE(message({ok, ok}, {Labels({1}), Labels({0})}).find("image 1: gt box 0 has label 0"),
            std::string::npos);
  EXPECT_NE(message({ok, Rows({.5, 0, .5, 1})}, {Labels({1}), Labels({1})})
                .find("image 1: gt box 0 = (0.5, 0, 0.5, 1) has no area"),
            std::string::npos);
  EXPECT_NE(message({Rows({0, 0, NAN, 1})}, {Labels({1})}).find("has no area"), std::string::npos);
  EXPECT_NE(message({ok}, {Labels({1, 2})}).find("gt_labels: expected [1]"), std::string::npos);
  EXPECT_NE(message({ok}, {torch::ones({1})}).find("integer labels"), std::string::npos);
  EXPECT_NE(message({ok}, {}).find("1 gt_boxes tensors but 0 gt_labels"), std::string::npos);
  EXPECT_NE(message({torch::zeros({1, 3})}, {Labels({1})}).find("expected boxes [N,4]"),
            std::string::npos);
  EXPECT_THROW(MatchPriors({ok}, {Labels({1})}, priors, kVariances, 0.0), Error);
  EXPECT_THROW(MatchPriors({ok}, {Labels({1})}, priors, {0.1, 0.1}), Error);
}

}  // namespace
}  // namespace scratchdet::box
