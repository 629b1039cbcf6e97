#include "scratchdet/box/box_coder.h"

#include <gtest/gtest.h>

#include <cmath>

#include "scratchdet/core/error.h"

namespace scratchdet::box {
namespace {

const std::vector<double> kVariances = {0.1, 0.1, 0.2, 0.2};

void ExpectNear(const torch::Tensor& actual, const std::vector<float>& expected, double tol) {
  const torch::Tensor flat = actual.flatten().to(torch::kFloat);
  ASSERT_EQ(flat.numel(), static_cast<int64_t>(expected.size()));
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_NEAR(flat[i].item<float>(), expected[i], tol) << "element " << i;
}

TEST(BoxCoderTest, FormConversionsWorkedByHand) {
  const torch::Tensor centre = torch::tensor({0.5f, 0.5f, 0.2f, 0.4f}).reshape({1, 4});
  ExpectNear(CenterToCorner(centre), {0.4f, 0.3f, 0.6f, 0.7f}, 1e-6);
  ExpectNear(CornerToCenter(CenterToCorner(centre)), {0.5f, 0.5f, 0.2f, 0.4f}, 1e-6);
}

TEST(BoxCoderTest, EncodeWorkedByHand) {
  // Prior (0.5, 0.5, 0.2, 0.2); box corners (0.45, 0.4, 0.65, 0.8) = centre (0.55, 0.6), size
  // (0.2, 0.4). g_cx = 0.05 / (0.1 * 0.2) = 2.5; g_cy = 0.1 / (0.1 * 0.2) = 5;
  // g_w = log(0.2 / 0.2) / 0.2 = 0; g_h = log(0.4 / 0.2) / 0.2 = 5 log 2.
  const torch::Tensor prior = torch::tensor({0.5f, 0.5f, 0.2f, 0.2f}).reshape({1, 4});
  const torch::Tensor box = torch::tensor({0.45f, 0.4f, 0.65f, 0.8f}).reshape({1, 4});
  const torch::Tensor code = EncodeBoxes(box, prior, kVariances);
  ExpectNear(code, {2.5f, 5.0f, 0.0f, 5.0f * std::log(2.0f)}, 1e-4);
  ExpectNear(DecodeBoxes(code, prior, kVariances), {0.45f, 0.4f, 0.65f, 0.8f}, 1e-6);
}

TEST(BoxCoderTest, ZeroOffsetsDecodeToThePriors) {
  const torch::Tensor priors =
      torch::tensor({0.5f, 0.5f, 0.2f, 0.2f, 0.1f, 0.3f, 0.1f, 0.4f}).reshape({2, 4});
  ExpectNear(DecodeBoxes(torch::zeros({2, 4}), priors, kVariances),
             {0.4f, 0.4f, 0.6f, 0.6f, 0.05f, 0.1f, 0.15f, 0.5f}, 1e-6);
}

TEST(BoxCoderTest, BatchedRoundTripOnRandomBoxes) {
  torch::manual_seed(7);
  const int64_t num_priors = 50;
  const torch::Tensor priors =
      torch::cat({torch::rand({num_priors, 2}), torch::rand({num_priors, 2}) * 0.9 + 0.05}, 1);
  const torch::Tensor lo = torch::rand({3, num_priors, 2});
  const torch::Tensor boxes = torch::cat({lo, lo + torch::rand({3, num_priors, 2}) + 0.01}, 2);
  const torch::Tensor code = EncodeBoxes(boxes, priors, kVariances);
  ASSERT_EQ(code.sizes(), boxes.sizes());
  EXPECT_TRUE(torch::allclose(DecodeBoxes(code, priors, kVariances), boxes, 1e-5, 1e-5));
  // And the other way round: offsets -> boxes -> offsets.
  const torch::Tensor offsets = torch::randn({3, num_priors, 4});
  EXPECT_TRUE(
      torch::allclose(EncodeBoxes(DecodeBoxes(offsets, priors, kVariances), priors, kVariances),
                      offsets, 1e-4, 1e-4));
}

TEST(BoxCoderTest, BadInputsThrow) {
  const torch::Tensor priors = torch::rand({5, 4});
  EXPECT_THROW(EncodeBoxes(torch::rand({4, 4}), priors, kVariances), Error);  // 4 != 5 priors
  EXPECT_THROW(EncodeBoxes(torch::rand({5, 4}), priors, {0.1, 0.1, 0.2}), Error);
  EXPECT_THROW(DecodeBoxes(torch::rand({5, 4}), priors, {0.1, 0.1, 0.2, 0.0}), Error);
  EXPECT_THROW(DecodeBoxes(torch::rand({5, 3}), priors, kVariances), Error);
  EXPECT_THROW(CenterToCorner(torch::rand({2, 5})), Error);
}

}  // namespace
}  // namespace scratchdet::box
