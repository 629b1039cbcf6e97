#include "scratchdet/box/matcher.h"

#include <algorithm>
#include <string>
#include <utility>

#include "scratchdet/box/box_coder.h"
#include "scratchdet/box/iou.h"
#include "scratchdet/box/tensor_checks.h"
#include "scratchdet/core/error.h"

namespace scratchdet::box {

namespace {

// Moves one image's ground truth to the priors' device and dtype after checking it.
std::pair<torch::Tensor, torch::Tensor> CheckedGroundTruth(const torch::Tensor& boxes,
                                                           const torch::Tensor& labels,
                                                           const torch::Tensor& priors,
                                                           size_t image) {
  const std::string what = fmt::format("MatchPriors: image {}", image);
  CheckBoxes(boxes, what + " gt_boxes");
  if (!labels.defined() || labels.dim() != 1 || labels.size(0) != boxes.size(0))
    Fail("{} gt_labels: expected [{}] for {} boxes, got {}", what, boxes.size(0), boxes.size(0),
         ShapeString(labels));
  if (labels.is_floating_point() || labels.scalar_type() == torch::kBool)
    Fail("{} gt_labels: expected integer labels, got {}", what,
         c10::toString(labels.scalar_type()));
  const torch::Tensor b = boxes.to(priors.device(), priors.scalar_type());
  const torch::Tensor l = labels.to(priors.device(), torch::kLong);
  if (b.size(0) == 0) return {b, l};
  const torch::Tensor bad_label = l < 1;
  if (bad_label.any().item<bool>()) {
    const int64_t k = bad_label.nonzero()[0][0].item<int64_t>();
    Fail("{}: gt box {} has label {}, expected >= 1 (0 is background)", what, k,
         l[k].item<int64_t>());
  }
  // Written as "not positive" so that NaN coordinates are caught too.
  const torch::Tensor bad_box =
      ~((b.select(1, 2) > b.select(1, 0)) & (b.select(1, 3) > b.select(1, 1)));
  if (bad_box.any().item<bool>()) {
    const int64_t k = bad_box.nonzero()[0][0].item<int64_t>();
    const torch::Tensor box = b[k].to(torch::kCPU, torch::kDouble);
    Fail("{}: gt box {} = ({}, {}, {}, {}) has no area, expected x2 > x1 and y2 > y1", what, k,
         box[0].item<double>(), box[1].item<double>(), box[2].item<double>(),
         box[3].item<double>());
  }
  return {b, l};
}

// The forced (ground truth, prior) pairs of one image as two int64 [F] tensors on the device of
// `iou` [G, P] (see matcher.h, step 1).
//
// A ground truth's choice is always among its top min(G, P) priors, because fewer than G priors
// are taken before it chooses; so the greedy runs on the host over those candidates only.
std::pair<torch::Tensor, torch::Tensor> ForcedMatches(const torch::Tensor& iou) {
  const int64_t num_gt = iou.size(0);
  const int64_t k = std::min(num_gt, iou.size(1));
  auto [top_iou, top_prior] = iou.topk(k, /*dim=*/1);
  const torch::Tensor cand_iou = top_iou.to(torch::kCPU, torch::kDouble).contiguous();
  const torch::Tensor cand_prior = top_prior.to(torch::kCPU).contiguous();
  const auto iou_at = cand_iou.accessor<double, 2>();
  const auto prior_at = cand_prior.accessor<int64_t, 2>();

  std::vector<bool> gt_done(num_gt, false);
  std::vector<int64_t> taken;  // priors already forced (at most G)
  std::vector<int64_t> gts, priors;
  for (int64_t step = 0; step < k; ++step) {
    double best_iou = 0;  // pairs need IoU > 0
    int64_t best_gt = -1, best_prior = -1;
    for (int64_t g = 0; g < num_gt; ++g) {
      if (gt_done[g]) continue;
      for (int64_t c = 0; c < k; ++c) {
        const int64_t p = prior_at[g][c];
        if (std::find(taken.begin(), taken.end(), p) != taken.end()) continue;
        const double v = iou_at[g][c];
        // Strictly larger IoU wins; on a tie the lower prior of the same (lower) gt wins.
        if (v > best_iou || (v == best_iou && best_gt == g && p < best_prior)) {
          best_iou = v;
          best_gt = g;
          best_prior = p;
        }
      }
    }
    if (best_gt < 0) break;  // nothing left with a positive overlap
    gt_done[best_gt] = true;
    taken.push_back(best_prior);
    gts.push_back(best_gt);
    priors.push_back(best_prior);
  }
  const auto opts = torch::TensorOptions().dtype(torch::kLong);
  const int64_t n = static_cast<int64_t>(gts.size());
  return {torch::from_blob(gts.data(), {n}, opts).clone().to(iou.device()),
          torch::from_blob(priors.data(), {n}, opts).clone().to(iou.device())};
}

}  // namespace

MatchTargets MatchPriors(const std::vector<torch::Tensor>& gt_boxes,
                         const std::vector<torch::Tensor>& gt_labels, const torch::Tensor& priors,
                         const std::vector<double>& variances, double iou_threshold) {
  CheckBoxes(priors, "MatchPriors: priors");
  CheckVariances(variances, "MatchPriors");
  if (gt_boxes.size() != gt_labels.size())
    Fail("MatchPriors: {} gt_boxes tensors but {} gt_labels tensors, expected one each per image",
         gt_boxes.size(), gt_labels.size());
  if (!(iou_threshold > 0 && iou_threshold <= 1))
    Fail("MatchPriors: iou_threshold {} must be in (0, 1]", iou_threshold);

  const int64_t num_priors = priors.size(0);
  const torch::Tensor priors_xyxy = CenterToCorner(priors);
  std::vector<torch::Tensor> locs, labels;
  for (size_t i = 0; i < gt_boxes.size(); ++i) {
    auto [boxes, box_labels] = CheckedGroundTruth(gt_boxes[i], gt_labels[i], priors, i);
    if (boxes.size(0) == 0) {
      locs.push_back(torch::zeros({num_priors, 4}, priors.options()));
      labels.push_back(torch::zeros({num_priors}, priors.options().dtype(torch::kLong)));
      continue;
    }
    const torch::Tensor iou = BoxIou(boxes, priors_xyxy);  // [G, P]
    auto [best_iou, best_gt] = iou.max(/*dim=*/0);         // [P]
    torch::Tensor positive = best_iou >= iou_threshold;
    auto [forced_gt, forced_prior] = ForcedMatches(iou);
    best_gt.index_put_({forced_prior}, forced_gt);
    positive.index_put_({forced_prior}, true);
    labels.push_back(
        torch::where(positive, box_labels.index_select(0, best_gt), torch::zeros_like(best_gt)));
    const torch::Tensor loc = EncodeBoxes(boxes.index_select(0, best_gt), priors, variances);
    locs.push_back(torch::where(positive.unsqueeze(1), loc, torch::zeros_like(loc)));
  }
  if (locs.empty())
    return {torch::zeros({0, num_priors, 4}, priors.options()),
            torch::zeros({0, num_priors}, priors.options().dtype(torch::kLong))};
  return {torch::stack(locs), torch::stack(labels)};
}

}  // namespace scratchdet::box
