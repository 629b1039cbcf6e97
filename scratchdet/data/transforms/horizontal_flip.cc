#include "scratchdet/data/transforms/horizontal_flip.h"

#include <opencv2/core.hpp>

namespace scratchdet::data {

AnnotatedImage HorizontalFlip::Apply(AnnotatedImage input, Rng& rng) const {
  if (!rng.Bernoulli(probability_)) return input;
  cv::Mat flipped;
  cv::flip(input.image, flipped, 1);
  input.image = flipped;
  const float width = static_cast<float>(input.image.cols);
  for (auto& box : input.boxes) {
    const float x1 = box[0];
    box[0] = width - box[2];
    box[2] = width - x1;
  }
  return input;
}

}  // namespace scratchdet::data
