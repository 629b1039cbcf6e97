// The SSD training and test transforms (paper.md "Training recipe"), in the official order:
//   train: photometric distort -> expand -> min-IoU crop -> flip -> warp-resize -> - mean
//   test:  warp-resize -> - mean
// Both end with a CV_32FC3 image of the input size and boxes in its pixels.
#pragma once

#include <memory>

#include "scratchdet/data/transforms/transform.h"

namespace scratchdet::data {

std::shared_ptr<const Transform> SsdTrainTransform(int input_size);
std::shared_ptr<const Transform> SsdTestTransform(int input_size);

}  // namespace scratchdet::data
