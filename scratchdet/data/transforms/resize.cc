#include "scratchdet/data/transforms/resize.h"

#include <opencv2/imgproc.hpp>

#include "scratchdet/core/error.h"

namespace scratchdet::data {

AnnotatedImage Resize::Apply(AnnotatedImage input, Rng&) const {
  if (input.image.empty()) Fail("resize: empty image");
  const float sx = static_cast<float>(width_) / input.image.cols;
  const float sy = static_cast<float>(height_) / input.image.rows;
  cv::Mat resized;
  cv::resize(input.image, resized, cv::Size(width_, height_), 0, 0, cv::INTER_LINEAR);
  input.image = resized;
  for (auto& box : input.boxes) {
    box[0] *= sx;
    box[1] *= sy;
    box[2] *= sx;
    box[3] *= sy;
  }
  return input;
}

}  // namespace scratchdet::data
