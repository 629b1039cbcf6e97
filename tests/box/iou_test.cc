#include "scratchdet/box/iou.h"

#include <gtest/gtest.h>

#include <array>

#include "scratchdet/core/error.h"

namespace scratchdet::box {
namespace {

torch::Tensor Boxes(std::initializer_list<std::array<float, 4>> rows) {
  std::vector<float> data;
  for (const auto& r : rows) data.insert(data.end(), r.begin(), r.end());
  return torch::tensor(data).reshape({-1, 4});
}

TEST(IouTest, ContinuousWorkedByHand) {
  const torch::Tensor a = Boxes({{0, 0, 2, 2}, {0, 0, 1, 1}});
  const torch::Tensor b = Boxes({{1, 1, 3, 3}, {0, 0, 2, 2}, {2, 2, 3, 3}, {1, 0, 2, 1}});
  const torch::Tensor iou = BoxIou(a, b);
  ASSERT_EQ(iou.sizes(), (std::vector<int64_t>{2, 4}));
  // [0,0,2,2] vs [1,1,3,3]: intersection 1, union 4 + 4 - 1 = 7.
  EXPECT_NEAR(iou[0][0].item<float>(), 1.0 / 7.0, 1e-6);
  EXPECT_NEAR(iou[0][1].item<float>(), 1.0, 1e-6);
  // Disjoint.
  EXPECT_EQ(iou[0][2].item<float>(), 0.0f);
  // [0,0,1,1] vs [0,0,2,2]: 1 / 4.
  EXPECT_NEAR(iou[1][1].item<float>(), 0.25, 1e-6);
  // Boxes sharing only an edge do not overlap in continuous coordinates.
  EXPECT_EQ(iou[1][3].item<float>(), 0.0f);
}

TEST(IouTest, VocPixelAddsOneToEveryExtent) {
  const torch::Tensor a = Boxes({{0, 0, 2, 2}, {0, 0, 1, 1}});
  const torch::Tensor b = Boxes({{1, 1, 3, 3}, {1, 0, 2, 1}});
  const torch::Tensor iou = BoxIou(a, b, IouConvention::kVocPixel);
  // 3x3 pixel boxes overlapping in a 2x2 block: 4 / (9 + 9 - 4).
  EXPECT_NEAR(iou[0][0].item<float>(), 4.0 / 14.0, 1e-6);
  // 2x2 pixel boxes sharing one 1x2 column of pixels: 2 / (4 + 4 - 2).
  EXPECT_NEAR(iou[1][1].item<float>(), 2.0 / 6.0, 1e-6);
}

TEST(IouTest, DegenerateBoxesGiveZeroNotNan) {
  // Zero width, inverted, and a point.
  const torch::Tensor a = Boxes({{1, 1, 1, 3}, {2, 2, 1, 1}, {5, 5, 5, 5}});
  const torch::Tensor continuous = BoxIou(a, a);
  EXPECT_FALSE(continuous.isnan().any().item<bool>());
  EXPECT_EQ(continuous.abs().sum().item<float>(), 0.0f);
  // In pixels a zero-width box is one pixel column wide: 1x3 pixels, IoU 1 with itself; the
  // inverted box (x2 - x1 + 1 = 0) stays empty; the point is one pixel.
  const torch::Tensor pixel = BoxIou(a, a, IouConvention::kVocPixel);
  EXPECT_NEAR(pixel[0][0].item<float>(), 1.0, 1e-6);
  EXPECT_EQ(pixel[1][1].item<float>(), 0.0f);
  EXPECT_NEAR(pixel[2][2].item<float>(), 1.0, 1e-6);
  EXPECT_FALSE(pixel.isnan().any().item<bool>());
}

TEST(IouTest, GradientOfDegenerateBoxesIsFinite) {
  const torch::Tensor a = Boxes({{1, 1, 1, 3}, {0, 0, 1, 1}}).requires_grad_(true);
  const torch::Tensor b = Boxes({{1, 1, 1, 3}, {2, 2, 1, 1}}).requires_grad_(true);
  BoxIou(a, b).sum().backward();
  EXPECT_TRUE(a.grad().isfinite().all().item<bool>());
  EXPECT_TRUE(b.grad().isfinite().all().item<bool>());
}

TEST(IouTest, EmptyInputsGiveEmptyMatrix) {
  const torch::Tensor iou = BoxIou(torch::zeros({0, 4}), Boxes({{0, 0, 1, 1}}));
  EXPECT_EQ(iou.sizes(), (std::vector<int64_t>{0, 1}));
}

TEST(IouTest, KeepsDtype) {
  const torch::Tensor a = Boxes({{0, 0, 2, 2}}).to(torch::kDouble);
  const torch::Tensor iou = BoxIou(a, a);
  EXPECT_EQ(iou.scalar_type(), torch::kDouble);
  EXPECT_EQ(iou.item<double>(), 1.0);
}

TEST(IouTest, BadShapesThrow) {
  EXPECT_THROW(BoxIou(torch::zeros({3, 5}), torch::zeros({2, 4})), Error);
  EXPECT_THROW(BoxIou(torch::zeros({4}), torch::zeros({2, 4})), Error);
  EXPECT_THROW(BoxIou(torch::zeros({2, 4}, torch::kLong), torch::zeros({2, 4})), Error);
  try {
    BoxIou(torch::zeros({2, 4}), torch::zeros({2, 3}));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[2, 3]"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace scratchdet::box
