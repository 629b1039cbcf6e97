// SSD's zoom-out (paper.md "Training recipe"): with probability 0.5 the image is placed at a
// random position on a canvas up to 4x its size filled with the mean pixel, which turns large
// objects into small ones. Boxes move with the image.
#pragma once

#include <opencv2/core/types.hpp>

#include "scratchdet/data/transforms/transform.h"

namespace scratchdet::data {

struct ExpandOptions {
  double probability = 0.5;
  double max_ratio = 4.0;  // canvas side / image side, drawn uniformly from [1, max_ratio]
  cv::Scalar fill = cv::Scalar(104, 117, 123);  // BGR mean
};

class Expand : public Transform {
 public:
  explicit Expand(ExpandOptions options = {}) : options_(options) {}
  AnnotatedImage Apply(AnnotatedImage input, Rng& rng) const override;
  std::string name() const override { return "expand"; }

 private:
  ExpandOptions options_;
};

}  // namespace scratchdet::data
