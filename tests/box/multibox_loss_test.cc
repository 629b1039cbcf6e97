#include "scratchdet/box/multibox_loss.h"

#include <gtest/gtest.h>

#include <cmath>

#include "scratchdet/core/error.h"

namespace scratchdet::box {
namespace {

// One image, 4 priors, 3 classes; prior 0 is positive (label 1), priors 1-3 are negatives.
struct HandCase {
  torch::Tensor loc_pred = torch::tensor({0.5f, -2.0f, 0.0f, 0.1f,  // prior 0 (positive)
                                          9.0f, 9.0f, 9.0f, 9.0f,   // negatives: loc ignored
                                          9.0f, 9.0f, 9.0f, 9.0f,   //
                                          9.0f, 9.0f, 9.0f, 9.0f})
                               .reshape({1, 4, 4});
  torch::Tensor conf_logits = torch::tensor({0.0f, 2.0f, 0.0f,   // prior 0, label 1
                                             1.0f, 0.0f, 0.0f,   // prior 1, easy negative
                                             0.0f, 0.0f, 3.0f,   // prior 2, hardest negative
                                             0.0f, 1.0f, 0.0f})  // prior 3, hard negative
                                  .reshape({1, 4, 3});
  MatchTargets targets{torch::zeros({1, 4, 4}), torch::tensor({1L, 0L, 0L, 0L}).reshape({1, 4})};
};

// Cross-entropies of the hand case: log(sum exp(logits)) - logit of the target class.
const double kCe0 = std::log(2 + std::exp(2.0)) - 2;  // positive
const double kCe1 = std::log(std::exp(1.0) + 2) - 1;  // ~0.55
const double kCe2 = std::log(2 + std::exp(3.0));      // ~3.10
const double kCe3 = std::log(2 + std::exp(1.0));      // ~1.55
// Smooth-L1 (beta 1) of prior 0 against a zero target: .5 * .25 + (2 - .5) + 0 + .5 * .01.
const double kLoc0 = 0.125 + 1.5 + 0.0 + 0.005;

TEST(MultiBoxLossTest, WorkedByHand) {
  const HandCase c;
  MultiBoxLossOptions options;
  options.neg_pos_ratio = 2;  // 1 positive -> the 2 hardest of 3 negatives: priors 2 and 3
  options.loc_weight = 2;
  const MultiBoxLossOutput out = MultiBoxLoss(c.loc_pred, c.conf_logits, c.targets, options);
  EXPECT_EQ(out.num_positives, 1);
  EXPECT_NEAR(out.loc.item<float>(), kLoc0, 1e-5);
  EXPECT_NEAR(out.conf.item<float>(), kCe0 + kCe2 + kCe3, 1e-5);
  EXPECT_NEAR(out.total.item<float>(), 2 * kLoc0 + kCe0 + kCe2 + kCe3, 1e-5);
}

TEST(MultiBoxLossTest, NegativesAreClampedToTheImagesNegatives) {
  // Default 3:1 with 3 negatives: all of them.
  const HandCase c;
  const MultiBoxLossOutput out = MultiBoxLoss(c.loc_pred, c.conf_logits, c.targets);
  EXPECT_NEAR(out.conf.item<float>(), kCe0 + kCe1 + kCe2 + kCe3, 1e-5);
  MultiBoxLossOptions ten;
  ten.neg_pos_ratio = 10;
  EXPECT_NEAR(MultiBoxLoss(c.loc_pred, c.conf_logits, c.targets, ten).conf.item<float>(),
              kCe0 + kCe1 + kCe2 + kCe3, 1e-5);
}

TEST(MultiBoxLossTest, DividesByThePositivesOfTheWholeBatch) {
  // Two copies of the hand case: sums double, positives double, the loss is unchanged.
  const HandCase c;
  MultiBoxLossOptions options;
  options.neg_pos_ratio = 1;  // 1 negative: prior 2
  const MatchTargets twice{torch::cat({c.targets.loc, c.targets.loc}),
                           torch::cat({c.targets.labels, c.targets.labels})};
  const MultiBoxLossOutput out =
      MultiBoxLoss(torch::cat({c.loc_pred, c.loc_pred}), torch::cat({c.conf_logits, c.conf_logits}),
                   twice, options);
  EXPECT_EQ(out.num_positives, 2);
  EXPECT_NEAR(out.loc.item<float>(), kLoc0, 1e-5);
  EXPECT_NEAR(out.conf.item<float>(), kCe0 + kCe2, 1e-5);
}

TEST(MultiBoxLossTest, ImageWithoutObjectsAddsNothing) {
  // Documented choice: an image with no positive mines no negatives (SSD).
  const HandCase c;
  const torch::Tensor empty_labels = torch::zeros({1, 4}, torch::kLong);
  const MatchTargets batch{torch::cat({c.targets.loc, torch::zeros({1, 4, 4})}),
                           torch::cat({c.targets.labels, empty_labels})};
  const MultiBoxLossOutput out =
      MultiBoxLoss(torch::cat({c.loc_pred, torch::randn({1, 4, 4})}),
                   torch::cat({c.conf_logits, torch::randn({1, 4, 3}) * 5}), batch);
  EXPECT_EQ(out.num_positives, 1);
  EXPECT_NEAR(out.loc.item<float>(), kLoc0, 1e-5);
  EXPECT_NEAR(out.conf.item<float>(), kCe0 + kCe1 + kCe2 + kCe3, 1e-5);
}

TEST(MultiBoxLossTest, BatchWithoutPositivesIsFiniteWithZeroGradient) {
  const torch::Tensor loc = torch::randn({2, 6, 4}).requires_grad_(true);
  const torch::Tensor conf = torch::randn({2, 6, 5}).requires_grad_(true);
  const MatchTargets targets{torch::zeros({2, 6, 4}), torch::zeros({2, 6}, torch::kLong)};
  const MultiBoxLossOutput out = MultiBoxLoss(loc, conf, targets);
  EXPECT_EQ(out.num_positives, 0);
  EXPECT_EQ(out.total.item<float>(), 0.0f);
  out.total.backward();
  EXPECT_EQ(loc.grad().abs().sum().item<float>(), 0.0f);
  EXPECT_EQ(conf.grad().abs().sum().item<float>(), 0.0f);
}

TEST(MultiBoxLossTest, GradientIsFiniteForExtremeLogits) {
  torch::manual_seed(1);
  const torch::Tensor loc = (torch::randn({3, 50, 4}) * 100).requires_grad_(true);
  const torch::Tensor conf = (torch::randn({3, 50, 21}) * 1e4).requires_grad_(true);
  const torch::Tensor labels = torch::where(torch::rand({3, 50}) < 0.1,
                                            torch::randint(1, 21, {3, 50}), torch::zeros({3, 50}))
                                   .to(torch::kLong);
  const MultiBoxLossOutput out = MultiBoxLoss(loc, conf, {torch::randn({3, 50, 4}), labels});
  ASSERT_TRUE(out.total.isfinite().item<bool>());
  out.total.backward();
  EXPECT_TRUE(loc.grad().isfinite().all().item<bool>());
  EXPECT_TRUE(conf.grad().isfinite().all().item<bool>());
  EXPECT_GT(conf.grad().abs().sum().item<float>(), 0.0f);
}

TEST(MultiBoxLossTest, BadInputsThrow) {
  const HandCase c;
  MatchTargets bad_label = c.targets;
  bad_label.labels = torch::tensor({3L, 0L, 0L, 0L}).reshape({1, 4});  // 3 classes: 0..2
  EXPECT_THROW(MultiBoxLoss(c.loc_pred, c.conf_logits, bad_label), Error);
  EXPECT_THROW(MultiBoxLoss(c.loc_pred, c.conf_logits.narrow(1, 0, 3), c.targets), Error);
  EXPECT_THROW(MultiBoxLoss(c.loc_pred.squeeze(0), c.conf_logits, c.targets), Error);
  MatchTargets float_labels = c.targets;
  float_labels.labels = float_labels.labels.to(torch::kFloat);
  EXPECT_THROW(MultiBoxLoss(c.loc_pred, c.conf_logits, float_labels), Error);
  MultiBoxLossOptions negative;
  negative.neg_pos_ratio = -1;
  EXPECT_THROW(MultiBoxLoss(c.loc_pred, c.conf_logits, c.targets, negative), Error);
}

}  // namespace
}  // namespace scratchdet::box
