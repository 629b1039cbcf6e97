// Inference post-processing: non-maximum suppression and SSD detection output
// (paper.md "Training recipe", Inference).
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace scratchdet::box {

struct DetectionOptions {
  double conf_threshold = 0.01;  // per-class softmax score must exceed this
  double nms_threshold = 0.45;   // per-class NMS IoU
  int64_t top_k = 400;           // per class and image, best scores kept before NMS (< 0: all)
  int64_t keep_top_k = 200;      // per image, best detections kept over all classes (< 0: all)
};

struct Detections {
  torch::Tensor boxes;   // [K, 4] normalised (x1, y1, x2, y2), not clipped to the image
  torch::Tensor scores;  // [K] softmax scores, descending
  torch::Tensor labels;  // [K] int64 >= 1 (0 is background)
};

// Greedy NMS: `boxes` [N, 4] (x1, y1, x2, y2), `scores` [N]. Boxes are visited by descending
// score (equal scores: lower index first); a box is kept unless its continuous IoU
// (BoxIou kContinuous) with an already kept box is > iou_threshold. Returns the kept indices
// into `boxes`, int64 [K] on the input's device, in visiting order. Runs on the host.
torch::Tensor Nms(const torch::Tensor& boxes, const torch::Tensor& scores, double iou_threshold);

// Detections per image from head outputs loc [B, P, 4] and conf_logits [B, P, C] (C includes
// background 0): softmax over classes; boxes decoded against `priors` [P, 4] (cx, cy, w, h);
// for each class c >= 1 the priors scoring > conf_threshold, at most top_k of them by score,
// then NMS at nms_threshold; finally the keep_top_k best over all classes, sorted by
// descending score (equal scores: lower class, then the order NMS kept them). An image with
// no score above the threshold gives boxes [0, 4], scores [0], labels [0].
std::vector<Detections> PostProcess(const torch::Tensor& loc, const torch::Tensor& conf_logits,
                                    const torch::Tensor& priors,
                                    const std::vector<double>& variances,
                                    const DetectionOptions& options = {});

}  // namespace scratchdet::box
