#include "scratchdet/data/transforms/expand.h"

#include <cmath>
#include <opencv2/core.hpp>

namespace scratchdet::data {

AnnotatedImage Expand::Apply(AnnotatedImage input, Rng& rng) const {
  const bool apply = rng.Bernoulli(options_.probability);
  const double ratio = rng.Uniform(1.0, options_.max_ratio);
  const double left_fraction = rng.Uniform(), top_fraction = rng.Uniform();
  if (!apply) return input;
  const int width = input.image.cols, height = input.image.rows;
  const int canvas_width = static_cast<int>(width * ratio);
  const int canvas_height = static_cast<int>(height * ratio);
  const int left = static_cast<int>(std::floor(left_fraction * (canvas_width - width)));
  const int top = static_cast<int>(std::floor(top_fraction * (canvas_height - height)));
  cv::Mat canvas(canvas_height, canvas_width, input.image.type(), options_.fill);
  input.image.copyTo(canvas(cv::Rect(left, top, width, height)));
  input.image = canvas;
  for (auto& box : input.boxes) {
    box[0] += left;
    box[1] += top;
    box[2] += left;
    box[3] += top;
  }
  return input;
}

}  // namespace scratchdet::data
