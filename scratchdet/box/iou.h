// Pairwise intersection-over-union of corner-form boxes.
#pragma once

#include <torch/types.h>

namespace scratchdet::box {

// How a box's extent is measured.
//   kContinuous: w = x2 - x1 (normalised or sub-pixel coordinates; training and NMS).
//   kVocPixel:   w = x2 - x1 + 1 (inclusive integer pixels, as both VOC reference evaluators
//                compute IoU; paper.md "VOC evaluation semantics").
enum class IouConvention { kContinuous, kVocPixel };

// IoU of every box in `a` [N,4] with every box in `b` [M,4], both (x1, y1, x2, y2) floating
// point on one device; returns [N,M] in their dtype. A box whose extent is not positive
// (x2 < x1, or x2 == x1 for kContinuous) has area 0, and a pair with an empty union has IoU 0,
// never NaN (also for the gradient). Throws scratchdet::Error on a shape or dtype mismatch.
torch::Tensor BoxIou(const torch::Tensor& a, const torch::Tensor& b,
                     IouConvention convention = IouConvention::kContinuous);

}  // namespace scratchdet::box
