// Box form conversions and the SSD centre-size encoding of boxes against priors.
#pragma once

#include <torch/types.h>

#include <vector>

namespace scratchdet::box {

// [..., 4] (cx, cy, w, h) -> [..., 4] (x1, y1, x2, y2).
torch::Tensor CenterToCorner(const torch::Tensor& boxes);

// [..., 4] (x1, y1, x2, y2) -> [..., 4] (cx, cy, w, h).
torch::Tensor CornerToCenter(const torch::Tensor& boxes);

// Regression targets of `matched_xyxy` [..., P, 4] against `priors` [P, 4] (cx, cy, w, h),
// SSD's centre-size code with variances v (PriorConfig::variances):
//   g_cx = (cx - p_cx) / (v0 * p_w)    g_cy = (cy - p_cy) / (v1 * p_h)
//   g_w  = log(w / p_w) / v2           g_h  = log(h / p_h) / v3
// Returns [..., P, 4]. Boxes must have positive width and height (log of 0 is -inf): the
// matcher guarantees this for its targets.
torch::Tensor EncodeBoxes(const torch::Tensor& matched_xyxy, const torch::Tensor& priors,
                          const std::vector<double>& variances);

// Inverse of EncodeBoxes: `loc` [..., P, 4] offsets -> [..., P, 4] (x1, y1, x2, y2), in the
// priors' (normalised) coordinates.
torch::Tensor DecodeBoxes(const torch::Tensor& loc, const torch::Tensor& priors,
                          const std::vector<double>& variances);

}  // namespace scratchdet::box
