#include "scratchdet/data/transforms/photometric_distort.h"

#include <cmath>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace scratchdet::data {
namespace {

void Clamp255(cv::Mat& image) {
  cv::max(image, 0.0, image);
  cv::min(image, 255.0, image);
}

}  // namespace

AnnotatedImage PhotometricDistort::Apply(AnnotatedImage input, Rng& rng) const {
  cv::Mat image;
  input.image.convertTo(image, CV_32FC3);
  const PhotometricDistortOptions& o = options_;
  // Every draw is made whether or not its step applies, so the number of values taken from
  // the Rng is fixed and later steps see the same stream whatever earlier ones decided.
  const bool brightness = rng.Bernoulli(o.probability);
  const double brightness_shift = rng.Uniform(-o.brightness_delta, o.brightness_delta);
  const bool contrast_first = rng.Bernoulli(0.5);
  const bool contrast = rng.Bernoulli(o.probability);
  const double contrast_factor = rng.Uniform(o.contrast_lower, o.contrast_upper);
  const bool saturation = rng.Bernoulli(o.probability);
  const double saturation_factor = rng.Uniform(o.saturation_lower, o.saturation_upper);
  const bool hue = rng.Bernoulli(o.probability);
  const double hue_shift = rng.Uniform(-o.hue_delta, o.hue_delta);

  if (brightness) {
    image += cv::Scalar::all(brightness_shift);
    Clamp255(image);
  }
  auto apply_contrast = [&] {
    if (!contrast) return;
    image *= contrast_factor;
    Clamp255(image);
  };
  auto apply_colour = [&] {
    if (!saturation && !hue) return;
    // Float HSV: H in degrees [0, 360), S in [0, 1], V in the input's range (0..255).
    cv::Mat hsv;
    cv::cvtColor(image, hsv, cv::COLOR_BGR2HSV);
    for (int y = 0; y < hsv.rows; ++y) {
      cv::Vec3f* row = hsv.ptr<cv::Vec3f>(y);
      for (int x = 0; x < hsv.cols; ++x) {
        if (saturation)
          row[x][1] = std::min(1.0f, static_cast<float>(row[x][1] * saturation_factor));
        if (hue) {
          float h = row[x][0] + static_cast<float>(hue_shift);
          if (h >= 360.0f) h -= 360.0f;
          if (h < 0.0f) h += 360.0f;
          row[x][0] = h;
        }
      }
    }
    cv::cvtColor(hsv, image, cv::COLOR_HSV2BGR);
    Clamp255(image);
  };
  if (contrast_first) {
    apply_contrast();
    apply_colour();
  } else {
    apply_colour();
    apply_contrast();
  }
  // Back to 8 bits, as Caffe's distortion keeps them: the zoom-out canvas that follows is up
  // to 16x the image's area, and in float it dominated the loader's time (page faults).
  // Into a new buffer: input.image may share its pixels with the caller's image.
  cv::Mat rounded;
  image.convertTo(rounded, CV_8UC3);
  input.image = rounded;
  return input;
}

}  // namespace scratchdet::data
