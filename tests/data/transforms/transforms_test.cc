// The SSD augmentation steps: geometry checked against the pixels it moves.
#include <gtest/gtest.h>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "scratchdet/data/transforms/expand.h"
#include "scratchdet/data/transforms/horizontal_flip.h"
#include "scratchdet/data/transforms/min_iou_crop.h"
#include "scratchdet/data/transforms/photometric_distort.h"
#include "scratchdet/data/transforms/resize.h"
#include "scratchdet/data/transforms/ssd_pipeline.h"
#include "scratchdet/data/transforms/subtract_mean.h"
#include "scratchdet/data/transforms/transform.h"

namespace scratchdet::data {
namespace {

// Black image with white filled rectangles, one box per rectangle (continuous pixels).
AnnotatedImage WhiteBoxes(int width, int height, const std::vector<cv::Rect>& rects) {
  AnnotatedImage x;
  x.image = cv::Mat::zeros(height, width, CV_8UC3);
  for (size_t k = 0; k < rects.size(); ++k) {
    const cv::Rect& r = rects[k];
    x.image(r).setTo(cv::Scalar::all(255));
    x.boxes.push_back({float(r.x), float(r.y), float(r.x + r.width), float(r.y + r.height)});
    x.labels.push_back(static_cast<int64_t>(k));
    x.difficult.push_back(k % 2);
  }
  return x;
}

// Bounding box (continuous) of the pixels brighter than `threshold` inside `region`.
std::array<float, 4> BrightExtent(const cv::Mat& image, const std::array<float, 4>& region,
                                  double threshold) {
  cv::Mat gray;
  cv::Mat as8u;
  image.convertTo(as8u, CV_8UC3);
  cv::cvtColor(as8u, gray, cv::COLOR_BGR2GRAY);
  const cv::Rect roi(cv::Point(int(std::floor(region[0])), int(std::floor(region[1]))),
                     cv::Point(int(std::ceil(region[2])), int(std::ceil(region[3]))));
  const cv::Mat mask = gray(roi & cv::Rect(0, 0, gray.cols, gray.rows)) > threshold;
  const cv::Rect r = cv::boundingRect(mask);
  return {float(roi.x + r.x), float(roi.y + r.y), float(roi.x + r.x + r.width),
          float(roi.y + r.y + r.height)};
}

void ExpectBoxesMatchPixels(const AnnotatedImage& x, double threshold, float tolerance) {
  for (size_t k = 0; k < x.size(); ++k) {
    // Look slightly beyond the box: the white region must not extend past it either.
    std::array<float, 4> search = x.boxes[k];
    search[0] = std::max(0.f, search[0] - 2);
    search[1] = std::max(0.f, search[1] - 2);
    search[2] = std::min(float(x.image.cols), search[2] + 2);
    search[3] = std::min(float(x.image.rows), search[3] + 2);
    const auto extent = BrightExtent(x.image, search, threshold);
    for (int d = 0; d < 4; ++d) EXPECT_NEAR(extent[d], x.boxes[k][d], tolerance) << "box " << k;
  }
}

TEST(HorizontalFlipTest, HandCaseAndTwiceIsIdentity) {
  const AnnotatedImage input = WhiteBoxes(10, 8, {cv::Rect(1, 2, 3, 3)});
  Rng rng(1);
  const HorizontalFlip flip(1.0);
  const AnnotatedImage once = flip.Apply(input, rng);
  EXPECT_EQ(once.boxes[0], (std::array<float, 4>{6, 2, 9, 5}));
  ExpectBoxesMatchPixels(once, 127, 0);
  const AnnotatedImage twice = flip.Apply(once, rng);
  EXPECT_EQ(twice.boxes, input.boxes);
  EXPECT_EQ(cv::norm(twice.image, input.image, cv::NORM_L1), 0.0);
  const AnnotatedImage never = HorizontalFlip(0.0).Apply(input, rng);
  EXPECT_EQ(never.boxes, input.boxes);
}

TEST(ExpandTest, BoxesFollowThePixelsAndTheFillIsTheMean) {
  for (uint64_t seed = 0; seed < 10; ++seed) {
    const AnnotatedImage input =
        WhiteBoxes(40, 30, {cv::Rect(5, 6, 10, 7), cv::Rect(30, 0, 10, 30)});
    Rng rng(seed);
    ExpandOptions options;
    options.probability = 1.0;
    const AnnotatedImage out = Expand(options).Apply(input, rng);
    EXPECT_GE(out.image.cols, 40);
    EXPECT_LE(out.image.cols, 160);
    ExpectBoxesMatchPixels(out, 200, 0);
    EXPECT_EQ(out.image.at<cv::Vec3b>(out.image.rows - 1, out.image.cols - 1) ==
                      cv::Vec3b(104, 117, 123) ||
                  out.image.cols == 40,
              true);
    EXPECT_EQ(out.labels, input.labels);
  }
}

TEST(MinIouCropTest, CentreRuleKeepsAndClipsTheRightBoxes) {
  AnnotatedImage input = WhiteBoxes(100, 100, {});
  input.boxes = {{10, 10, 30, 30},   // centre (20, 20) inside, clipped on the left/top
                 {0, 0, 12, 12},     // centre (6, 6) outside
                 {40, 40, 60, 80},   // centre (50, 60) inside, clipped at the bottom
                 {55, 20, 95, 30}};  // centre (75, 25) outside on the right
  input.labels = {0, 1, 2, 3};
  input.difficult = {0, 0, 1, 0};
  const AnnotatedImage out = CropWithCentreRule(input, cv::Rect(15, 15, 55, 55));  // to (70, 70)
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out.boxes[0], (std::array<float, 4>{0, 0, 15, 15}));
  EXPECT_EQ(out.boxes[1], (std::array<float, 4>{25, 25, 45, 55}));
  EXPECT_EQ(out.labels, (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(out.difficult, (std::vector<uint8_t>{0, 1}));
  EXPECT_EQ(out.image.cols, 55);
}

TEST(MinIouCropTest, CroppedBoxesStillEncloseTheirPixels) {
  int cropped = 0;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    const AnnotatedImage input =
        WhiteBoxes(120, 90, {cv::Rect(10, 10, 30, 20), cv::Rect(70, 40, 40, 45)});
    Rng rng(seed);
    const AnnotatedImage out = MinIouCrop().Apply(input, rng);
    if (out.image.size() != input.image.size()) ++cropped;
    ExpectBoxesMatchPixels(out, 200, 0);
    for (const auto& b : out.boxes) {
      EXPECT_GE(b[0], 0);
      EXPECT_LE(b[2], out.image.cols);
      EXPECT_LT(b[0], b[2]);
    }
  }
  EXPECT_GT(cropped, 20);  // the whole image is one of up to seven candidates
}

TEST(MinIouCropTest, CropsStayInsideTheImageWhenRoundingOvershoots) {
  // Scale 0.35 with an aspect above 1/s^2, which is clamped to 1/s^2: in doubles
  // w = s * sqrt(1/s^2) comes out just above 1 (a crash before the crop was clamped).
  MinIouCropOptions options;
  options.min_scale = options.max_scale = 0.35;
  options.min_aspect = options.max_aspect = 10.0;
  options.min_ious = {-1.0};
  for (const int side : {300, 333, 500, 97}) {
    for (uint64_t seed = 0; seed < 50; ++seed) {
      const AnnotatedImage input = WhiteBoxes(side, side - 13, {cv::Rect(5, 5, 20, 20)});
      Rng rng(seed);
      const AnnotatedImage out = MinIouCrop(options).Apply(input, rng);
      EXPECT_EQ(out.image.cols, side);  // full width, 0.35^2 of the height
    }
  }
}

TEST(MinIouCropTest, ImageWithoutBoxesCanOnlyUseTheUnconstrainedSampler) {
  AnnotatedImage input = WhiteBoxes(50, 50, {});
  Rng rng(3);
  const AnnotatedImage out = MinIouCrop().Apply(input, rng);
  EXPECT_TRUE(out.boxes.empty());
}

TEST(PhotometricDistortTest, BrightnessAloneIsAUniformClampedShift) {
  PhotometricDistortOptions options;
  options.probability = 1.0;
  options.contrast_lower = options.contrast_upper = 1.0;
  options.saturation_lower = options.saturation_upper = 1.0;
  options.hue_delta = 0;
  AnnotatedImage input = WhiteBoxes(20, 10, {cv::Rect(0, 0, 5, 5)});
  input.image.setTo(cv::Scalar(100, 50, 10), input.image == 0);
  Rng rng(7);
  const AnnotatedImage out = PhotometricDistort(options).Apply(input, rng);
  ASSERT_EQ(out.image.type(), CV_8UC3);
  const cv::Vec3b bg = out.image.at<cv::Vec3b>(9, 19), white = out.image.at<cv::Vec3b>(0, 0);
  const int shift = int(bg[0]) - 100;  // rounded
  EXPECT_LE(std::abs(shift), 32);
  EXPECT_GT(std::abs(shift), 0);
  EXPECT_NEAR(bg[1], std::clamp(50 + shift, 0, 255), 1);
  EXPECT_NEAR(bg[2], std::clamp(10 + shift, 0, 255), 1);
  EXPECT_NEAR(white[0], std::clamp(255 + shift, 0, 255), 1);
  EXPECT_EQ(out.boxes, input.boxes);
}

TEST(PhotometricDistortTest, HueAndSaturationLeaveGreyAlone) {
  PhotometricDistortOptions options;
  options.probability = 1.0;
  options.brightness_delta = 0;
  options.contrast_lower = options.contrast_upper = 1.0;
  options.saturation_lower = options.saturation_upper = 1.0;
  AnnotatedImage input;
  input.image = cv::Mat(4, 4, CV_8UC3, cv::Scalar(90, 90, 90));
  input.image.at<cv::Vec3b>(0, 0) = cv::Vec3b(0, 0, 255);
  for (uint64_t seed = 0; seed < 5; ++seed) {
    Rng rng(seed);
    const AnnotatedImage out = PhotometricDistort(options).Apply(input, rng);
    const cv::Vec3b grey = out.image.at<cv::Vec3b>(3, 3);
    for (int ch = 0; ch < 3; ++ch) EXPECT_EQ(grey[ch], 90);
    // Hue shifted by at most 18 degrees at S = 1: V stays 255, one other channel stays 0 and
    // the third reaches at most 255 * 18/60.
    const cv::Vec3b red = out.image.at<cv::Vec3b>(0, 0);
    EXPECT_EQ(red[2], 255);
    EXPECT_LE(std::max(red[0], red[1]), 77);  // 255 * 18/60 = 76.5
  }
}

TEST(PhotometricDistortTest, ProbabilityZeroIsTheIdentity) {
  PhotometricDistortOptions options;
  options.probability = 0;
  const AnnotatedImage input = WhiteBoxes(8, 8, {cv::Rect(1, 1, 3, 3)});
  Rng rng(1);
  const AnnotatedImage out = PhotometricDistort(options).Apply(input, rng);
  EXPECT_EQ(cv::norm(out.image, input.image, cv::NORM_L1), 0.0);
}

TEST(ResizeAndMeanTest, ScaleBoxesAndSubtractTheSsdMean) {
  const AnnotatedImage input = WhiteBoxes(200, 100, {cv::Rect(20, 10, 100, 40)});
  Rng rng(0);
  const AnnotatedImage resized = Resize(50, 100).Apply(input, rng);
  EXPECT_EQ(resized.image.size(), cv::Size(100, 50));
  EXPECT_EQ(resized.boxes[0], (std::array<float, 4>{10, 5, 60, 25}));
  const AnnotatedImage centred = SubtractMean().Apply(resized, rng);
  ASSERT_EQ(centred.image.type(), CV_32FC3);
  const cv::Vec3f black = centred.image.at<cv::Vec3f>(49, 99);
  EXPECT_EQ(black, cv::Vec3f(-104, -117, -123));
}

TEST(SsdPipelineTest, GeometricStepsTogetherKeepBoxesOnTheirPixels) {
  // The SSD geometric chain with a black fill (the mean fill would be indistinguishable from
  // a darkened white box), so white pixels mark exactly the objects.
  ExpandOptions expand;
  expand.fill = cv::Scalar::all(0);
  const Compose chain({std::make_shared<Expand>(expand), std::make_shared<MinIouCrop>(),
                       std::make_shared<HorizontalFlip>(), std::make_shared<Resize>(96, 96)});
  const AnnotatedImage input =
      WhiteBoxes(160, 120, {cv::Rect(20, 20, 50, 40), cv::Rect(90, 50, 60, 60)});
  int checked = 0;
  for (uint64_t seed = 0; seed < 30; ++seed) {
    Rng rng(seed);
    const AnnotatedImage out = chain.Apply(input, rng);
    ASSERT_EQ(out.image.size(), cv::Size(96, 96));
    // Warping blurs edges by about a pixel (more where the crop is enlarged).
    ExpectBoxesMatchPixels(out, 127, 1.5f);
    checked += static_cast<int>(out.size());
  }
  EXPECT_GT(checked, 30);
}

TEST(SsdPipelineTest, DeterministicForASeed) {
  const AnnotatedImage input =
      WhiteBoxes(160, 120, {cv::Rect(20, 20, 50, 40), cv::Rect(90, 50, 60, 60)});
  const auto train = SsdTrainTransform(96);
  int differing = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Rng a(seed), b(seed), c(seed + 100);
    const AnnotatedImage first = train->Apply(input, a);
    const AnnotatedImage second = train->Apply(input, b);
    const AnnotatedImage other = train->Apply(input, c);
    ASSERT_EQ(first.image.size(), cv::Size(96, 96));
    EXPECT_EQ(cv::norm(first.image, second.image, cv::NORM_L1), 0.0);
    EXPECT_EQ(first.boxes, second.boxes);
    if (cv::norm(first.image, other.image, cv::NORM_L1) > 0) ++differing;
  }
  EXPECT_GT(differing, 15);
}

}  // namespace
}  // namespace scratchdet::data
