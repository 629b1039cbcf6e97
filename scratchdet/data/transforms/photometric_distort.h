// SSD's photometric distortion (paper.md "Training recipe"; the official Caffe
// distort_param): brightness +-32, contrast 0.5-1.5, saturation 0.5-1.5, hue +-18 degrees,
// each applied with probability 0.5. Brightness first; then, with probability 0.5, contrast
// before saturation and hue, otherwise after them. Pixel values are clamped to [0, 255] after
// each step, as Caffe's 8-bit arithmetic does; computed in float, returned rounded to CV_8UC3
// like Caffe's. Boxes are unchanged.
#pragma once

#include "scratchdet/data/transforms/transform.h"

namespace scratchdet::data {

struct PhotometricDistortOptions {
  double probability = 0.5;  // of each of the four steps
  double brightness_delta = 32;
  double contrast_lower = 0.5, contrast_upper = 1.5;
  double saturation_lower = 0.5, saturation_upper = 1.5;
  double hue_delta = 18;  // degrees
};

class PhotometricDistort : public Transform {
 public:
  explicit PhotometricDistort(PhotometricDistortOptions options = {}) : options_(options) {}
  AnnotatedImage Apply(AnnotatedImage input, Rng& rng) const override;
  std::string name() const override { return "photometric_distort"; }

 private:
  PhotometricDistortOptions options_;
};

}  // namespace scratchdet::data
