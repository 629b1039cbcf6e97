// The GPU check's device-side augmentation (tools/gpu_check/device_augment.h): pixels and
// boxes must move together, and the resample must be exact where it samples pixel centres.
#include "tools/gpu_check/device_augment.h"

#include <gtest/gtest.h>

#include <cmath>

namespace scratchdet::gpu_check {
namespace {

const torch::Tensor kMean = torch::tensor({104.f, 117.f, 123.f}).view({3, 1, 1});

// uint8 [1, H, W, 3] with distinct values per pixel and channel.
torch::Tensor RampImage(int height, int width) {
  return (torch::arange(height * width * 3, torch::kInt64) % 251)
      .view({1, height, width, 3})
      .to(torch::kUInt8);
}

torch::Tensor AsNetworkInput(const torch::Tensor& image_u8) {  // [1,H,W,3] -> [3,H,W] - mean
  return image_u8[0].permute({2, 0, 1}).to(torch::kFloat32) - kMean;
}

TEST(DeviceAugmentTest, IdentityAtTheImageSizeIsTheMeanSubtractedImage) {
  const torch::Tensor square = RampImage(7, 7);
  const AugmentDraw draw = IdentityDraw(7, 7, {{1, 2, 5, 6}}, {3});
  const torch::Tensor out = RenderBatch(square, {0}, {draw}, 7);
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{1, 3, 7, 7}));
  EXPECT_TRUE(out.is_contiguous(torch::MemoryFormat::ChannelsLast));
  EXPECT_LT((out[0] - AsNetworkInput(square)).abs().max().item<float>(), 1e-4);
  ASSERT_EQ(draw.boxes.size(), 1u);
  EXPECT_FLOAT_EQ(draw.boxes[0][0], 1.f / 7);
  EXPECT_FLOAT_EQ(draw.boxes[0][3], 6.f / 7);
  EXPECT_EQ(draw.labels[0], 3);
}

TEST(DeviceAugmentTest, FlipMirrorsPixelsAndBoxes) {
  const torch::Tensor image = RampImage(5, 5);
  AugmentDraw draw = IdentityDraw(5, 5, {}, {});
  draw.flip = true;
  const torch::Tensor out = RenderBatch(image, {0}, {draw}, 5);
  EXPECT_LT((out[0] - AsNetworkInput(image).flip({2})).abs().max().item<float>(), 1e-4);
}

TEST(DeviceAugmentTest, ZoomOutPlacesTheImageOnAMeanCanvas) {
  // Source rectangle (-4, -8, 8, 4): a 12x12 canvas with the 4x4 image at column 4, row 8.
  const torch::Tensor image = RampImage(4, 4);
  AugmentDraw draw = IdentityDraw(4, 4, {}, {});
  draw.source = {-4, -8, 8, 4};
  const torch::Tensor out = RenderBatch(image, {0}, {draw}, 12)[0];
  using torch::indexing::Slice;
  EXPECT_LT((out.index({Slice(), Slice(8, 12), Slice(4, 8)}) - AsNetworkInput(image))
                .abs().max().item<float>(), 1e-4);
  torch::Tensor outside = out.clone();
  outside.index_put_({Slice(), Slice(8, 12), Slice(4, 8)}, 0);
  EXPECT_EQ(outside.abs().max().item<float>(), 0.f);  // mean fill = 0 after subtraction
}

TEST(DeviceAugmentTest, PhotometricIsBrightnessThenContrastClamped) {
  const torch::Tensor image = torch::full({1, 2, 2, 3}, 100, torch::kUInt8);
  AugmentDraw draw = IdentityDraw(2, 2, {}, {});
  draw.brightness = 10;
  draw.contrast = 2;
  torch::Tensor out = RenderBatch(image, {0}, {draw}, 2)[0];
  EXPECT_LT((out - (torch::full({3, 2, 2}, 220.f) - kMean)).abs().max().item<float>(), 1e-4);
  draw.contrast = 3;  // 330 clamps to 255
  out = RenderBatch(image, {0}, {draw}, 2)[0];
  EXPECT_LT((out - (torch::full({3, 2, 2}, 255.f) - kMean)).abs().max().item<float>(), 1e-4);
}

// The invariant the detector relies on: a drawn box, mapped through the drawn source
// rectangle, is where the box's pixels land (up to clipping at the crop).
TEST(DeviceAugmentTest, BoxesFollowTheSourceRectangle) {
  const std::vector<std::array<float, 4>> boxes = {{10, 20, 60, 90}, {70, 5, 115, 40}};
  const std::vector<int64_t> labels = {1, 2};
  auto rng = data::Rng::Stream(3, {1});
  int expanded = 0, cropped = 0, flipped = 0, kept_all = 0;
  const int draws = 2000;
  for (int t = 0; t < draws; ++t) {
    const AugmentDraw d = DrawAugment(120, 120, boxes, labels, rng);
    const auto& s = d.source;
    const double sw = s[2] - s[0], sh = s[3] - s[1];
    ASSERT_GT(sw, 0);
    ASSERT_GT(sh, 0);
    expanded += (s[0] < 0 || s[1] < 0 || s[2] > 120 || s[3] > 120);
    cropped += (sw < 119.999 || sh < 119.999) && s[0] >= 0 && s[1] >= 0;
    flipped += d.flip;
    kept_all += d.boxes.size() == 2;
    size_t next = 0;
    for (size_t k = 0; k < boxes.size(); ++k) {
      const auto& b = boxes[k];
      const double cx = 0.5 * (b[0] + b[2]), cy = 0.5 * (b[1] + b[3]);
      const bool inside = cx >= s[0] - 1e-6 && cx <= s[2] + 1e-6 && cy >= s[1] - 1e-6 && cy <= s[3] + 1e-6;
      if (!inside) continue;  // (a centre exactly on the border may go either way)
      ASSERT_LT(next, d.boxes.size());
      ASSERT_EQ(d.labels[next], labels[k]);
      double x1 = std::clamp((b[0] - s[0]) / sw, 0.0, 1.0), x2 = std::clamp((b[2] - s[0]) / sw, 0.0, 1.0);
      const double y1 = std::clamp((b[1] - s[1]) / sh, 0.0, 1.0), y2 = std::clamp((b[3] - s[1]) / sh, 0.0, 1.0);
      if (d.flip) std::tie(x1, x2) = std::make_pair(1 - x2, 1 - x1);
      const auto& got = d.boxes[next++];
      EXPECT_NEAR(got[0], x1, 1e-4);
      EXPECT_NEAR(got[1], y1, 1e-4);
      EXPECT_NEAR(got[2], x2, 1e-4);
      EXPECT_NEAR(got[3], y2, 1e-4);
    }
    EXPECT_EQ(next, d.boxes.size());
  }
  // Zoom-out half of the time, SSD's crop most of the rest, flip half of the time.
  EXPECT_NEAR(expanded / double(draws), 0.5, 0.06);
  EXPECT_GT(cropped, draws / 4);
  EXPECT_NEAR(flipped / double(draws), 0.5, 0.05);
  EXPECT_GT(kept_all, draws / 10);
}

// End to end: a white square on black, drawn, rendered; the box the draw reports covers the
// white pixels of the render.
TEST(DeviceAugmentTest, RenderedPixelsMatchTheDrawnBox) {
  torch::Tensor image = torch::zeros({1, 120, 120, 3}, torch::kUInt8);
  using torch::indexing::Slice;
  image.index_put_({0, Slice(30, 90), Slice(40, 100)}, 255);  // box (40, 30, 100, 90)
  auto rng = data::Rng::Stream(5, {2});
  int checked = 0;
  for (int t = 0; t < 200 && checked < 40; ++t) {
    AugmentDraw d = DrawAugment(120, 120, {{40, 30, 100, 90}}, {1}, rng);
    if (d.boxes.empty()) continue;
    d.brightness = 0;
    d.contrast = 1;
    const int size = 64;
    const torch::Tensor out = RenderBatch(image, {0}, {d}, size)[0][0] + 104;  // blue channel
    const torch::Tensor white = out > 127.5;
    const auto& b = d.boxes[0];
    // Pixel centres well inside the box are white, well outside are not.
    for (int y = 0; y < size; ++y)
      for (int x = 0; x < size; ++x) {
        const double u = (x + 0.5) / size, v = (y + 0.5) / size;
        const double margin = 2.0 / size;
        const bool in = u > b[0] + margin && u < b[2] - margin && v > b[1] + margin && v < b[3] - margin;
        const bool out_of = u < b[0] - margin || u > b[2] + margin || v < b[1] - margin || v > b[3] + margin;
        if (in) ASSERT_TRUE(white[y][x].item<bool>()) << "draw " << t << " pixel " << x << "," << y;
        if (out_of) ASSERT_FALSE(white[y][x].item<bool>()) << "draw " << t << " pixel " << x << "," << y;
      }
    ++checked;
  }
  EXPECT_EQ(checked, 40);
}

}  // namespace
}  // namespace scratchdet::gpu_check
