// Assignment of ground-truth boxes to priors and the resulting training targets (SSD matching,
// paper Sec. 3 / paper.md "Training recipe").
#pragma once

#include <torch/types.h>

#include <vector>

namespace scratchdet::box {

struct MatchTargets {
  torch::Tensor loc;     // [B, P, 4] EncodeBoxes offsets of the matched box; 0 for background
  torch::Tensor labels;  // [B, P] int64, the matched box's label (>= 1); 0 = background
};

// Per image, on the device and in the dtype of `priors` ([P, 4] (cx, cy, w, h) normalised):
//  1. Forced matches: every ground truth gets a prior of its own, chosen greedily as SSD's
//     bipartite step does: repeatedly take the (ground truth, prior) pair with the largest IoU
//     among ground truths without a prior and priors not yet taken. So a ground truth whose best
//     prior was taken by a better-overlapping one gets its next best free prior instead, and
//     two ground truths never share a forced prior. Ties go to the lower ground-truth index,
//     then the lower prior index. A pair needs IoU > 0 (a box overlapping no prior at all, i.e.
//     outside the image, stays unmatched), and with more ground truths than priors the extra
//     ones get none.
//  2. Every other prior takes the ground truth it overlaps most and is
//     positive when that IoU >= iou_threshold (IoU exactly 0.5 is positive).
// Forced matches override step 2. IoU is continuous (BoxIou kContinuous) against the priors in
// corner form. An image without ground truth gives all-background labels and zero loc.
//
// gt_boxes[i]: [G_i, 4] (x1, y1, x2, y2) normalised, each with x2 > x1 and y2 > y1;
// gt_labels[i]: [G_i] integer labels >= 1. Throws scratchdet::Error naming the image and box
// for a bad shape, label or box.
MatchTargets MatchPriors(const std::vector<torch::Tensor>& gt_boxes,
                         const std::vector<torch::Tensor>& gt_labels, const torch::Tensor& priors,
                         const std::vector<double>& variances, double iou_threshold = 0.5);

}  // namespace scratchdet::box
