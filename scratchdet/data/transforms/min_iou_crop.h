// SSD's random crop (paper.md "Training recipe"; the official Caffe batch_sampler set).
//
// Candidates: the whole image, plus at most one crop per constraint in `min_ious` (a crop
// whose IoU with at least one ground-truth box reaches it; a negative value = no constraint,
// which an image without boxes also satisfies), each found in up to `max_trials` tries; one
// candidate is then chosen uniformly. A crop is scale s in [0.3, 1] of each image side and
// aspect a in [0.5, 2] (clamped to [s^2, 1/s^2]), width s*sqrt(a), height s/sqrt(a), at a
// uniform position. Kept boxes are those whose centre lies inside the crop (borders
// included), clipped to it; an image may end with no boxes, which SSD treats as all
// background.
#pragma once

#include <array>
#include <opencv2/core/types.hpp>
#include <vector>

#include "scratchdet/data/transforms/transform.h"

namespace scratchdet::data {

struct MinIouCropOptions {
  std::vector<double> min_ious = {0.1, 0.3, 0.5, 0.7, 0.9, -1.0};
  double min_scale = 0.3, max_scale = 1.0;
  double min_aspect = 0.5, max_aspect = 2.0;
  int max_trials = 50;
};

class MinIouCrop : public Transform {
 public:
  explicit MinIouCrop(MinIouCropOptions options = {}) : options_(std::move(options)) {}
  AnnotatedImage Apply(AnnotatedImage input, Rng& rng) const override;
  std::string name() const override { return "min_iou_crop"; }

 private:
  MinIouCropOptions options_;
};

// Crops `input` to `crop` (pixels, inside the image) with the centre rule above.
AnnotatedImage CropWithCentreRule(const AnnotatedImage& input, const cv::Rect& crop);

// IoU of two continuous boxes (x1, y1, x2, y2).
double BoxIou(const std::array<float, 4>& a, const std::array<float, 4>& b);

}  // namespace scratchdet::data
