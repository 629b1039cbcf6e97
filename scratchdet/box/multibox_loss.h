// The SSD multibox training loss (paper Sec. 3; paper.md "Training recipe").
#pragma once

#include <torch/types.h>

#include <cstdint>

#include "scratchdet/box/matcher.h"

namespace scratchdet::box {

struct MultiBoxLossOptions {
  double neg_pos_ratio = 3.0;  // hard negatives kept per positive, per image (3:1)
  double loc_weight = 1.0;     // weight of the localisation term
};

struct MultiBoxLossOutput {
  torch::Tensor total;        // scalar: loc_weight * loc + conf
  torch::Tensor loc;          // scalar: localisation term (unweighted), already divided by N
  torch::Tensor conf;         // scalar: confidence term, already divided by N
  int64_t num_positives = 0;  // positives in the whole batch
  // Diagnostics (detached, no gradient): the confidence term split into its positive and its
  // hard-negative part, each divided by N as `conf` is (conf == conf_positive + conf_negative
  // up to rounding).
  double conf_positive = 0;
  double conf_negative = 0;
};

// loc_pred [B, P, 4] (EncodeBoxes offsets), conf_logits [B, P, num_classes], targets from
// MatchPriors. With N = max(1, positives in the batch):
//   loc  = sum over positives of smooth-L1 (beta 1) between loc_pred and targets.loc, / N
//   conf = sum over positives and mined negatives of softmax cross-entropy, / N
// Hard negative mining (per image): negatives are ranked by their cross-entropy against the
// background class, and the top min(floor(neg_pos_ratio * positives of the image), negatives of
// the image) are kept; ties keep the lower prior index. An image without positives therefore
// contributes no negatives (as in SSD): with no object there is no scale for how many
// negatives to weigh, and the batch's other images carry the background signal. A batch without
// any positive gives loc = conf = 0 (finite, with a zero gradient).
// Throws scratchdet::Error on a shape mismatch or a label outside [0, num_classes).
MultiBoxLossOutput MultiBoxLoss(const torch::Tensor& loc_pred, const torch::Tensor& conf_logits,
                                const MatchTargets& targets,
                                const MultiBoxLossOptions& options = {});

}  // namespace scratchdet::box
