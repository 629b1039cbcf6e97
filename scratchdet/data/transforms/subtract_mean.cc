#include "scratchdet/data/transforms/subtract_mean.h"

#include <opencv2/core.hpp>

namespace scratchdet::data {

AnnotatedImage SubtractMean::Apply(AnnotatedImage input, Rng&) const {
  cv::Mat image;
  input.image.convertTo(image, CV_32FC3);
  image -= mean_;
  input.image = image;
  return input;
}

}  // namespace scratchdet::data
