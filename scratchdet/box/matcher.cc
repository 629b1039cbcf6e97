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

// The batch's ground truth padded to the largest count G, on the priors' device and dtype.
struct PaddedGroundTruth {
  torch::Tensor boxes;   // [B, G, 4]; padding rows are 0
  torch::Tensor labels;  // [B, G] int64; padding is 0
  torch::Tensor valid;   // [B, G] bool
  std::vector<int64_t> counts;
};

void CheckShapes(const torch::Tensor& boxes, const torch::Tensor& labels, size_t image) {
  const std::string what = fmt::format("MatchPriors: image {}", image);
  CheckBoxes(boxes, what + " gt_boxes");
  if (!labels.defined() || labels.dim() != 1 || labels.size(0) != boxes.size(0))
    Fail("{} gt_labels: expected [{}] for {} boxes, got {}", what, boxes.size(0), boxes.size(0),
         ShapeString(labels));
  if (labels.is_floating_point() || labels.scalar_type() == torch::kBool)
    Fail("{} gt_labels: expected integer labels, got {}", what,
         c10::toString(labels.scalar_type()));
}

// Throws naming the first (image, box) where `bad` [B, G] is set; `describe` gives the rest.
template <typename Describe>
void FailAtFirst(const torch::Tensor& bad, Describe describe) {
  if (!bad.any().item<bool>()) return;
  const torch::Tensor at = bad.nonzero()[0];
  describe(at[0].item<int64_t>(), at[1].item<int64_t>());
}

PaddedGroundTruth PadAndCheck(const std::vector<torch::Tensor>& gt_boxes,
                              const std::vector<torch::Tensor>& gt_labels,
                              const torch::Tensor& priors) {
  PaddedGroundTruth gt;
  int64_t most = 0;
  for (size_t i = 0; i < gt_boxes.size(); ++i) {
    CheckShapes(gt_boxes[i], gt_labels[i], i);
    gt.counts.push_back(gt_boxes[i].size(0));
    most = std::max(most, gt_boxes[i].size(0));
  }
  // Small [G, 4] tensors: padding them one by one is cheap; the per-prior work is batched.
  std::vector<torch::Tensor> boxes, labels;
  for (size_t i = 0; i < gt_boxes.size(); ++i) {
    const int64_t pad = most - gt.counts[i];
    boxes.push_back(torch::constant_pad_nd(gt_boxes[i].to(priors.device(), priors.scalar_type()),
                                           {0, 0, 0, pad}));
    labels.push_back(
        torch::constant_pad_nd(gt_labels[i].to(priors.device(), torch::kLong), {0, pad}));
  }
  gt.boxes = torch::stack(boxes);
  gt.labels = torch::stack(labels);
  gt.valid = torch::arange(most, gt.labels.options()).unsqueeze(0) <
             torch::tensor(gt.counts, gt.labels.options()).unsqueeze(1);
  if (most == 0) return gt;

  FailAtFirst(gt.valid & (gt.labels < 1), [&](int64_t i, int64_t k) {
    Fail("MatchPriors: image {}: gt box {} has label {}, expected >= 1 (0 is background)", i, k,
         gt.labels[i][k].item<int64_t>());
  });
  // Written as "not positive" so that NaN coordinates are caught too.
  const torch::Tensor& b = gt.boxes;
  const torch::Tensor has_area =
      (b.select(2, 2) > b.select(2, 0)) & (b.select(2, 3) > b.select(2, 1));
  FailAtFirst(gt.valid & ~has_area, [&](int64_t i, int64_t k) {
    const torch::Tensor box = b[i][k].to(torch::kCPU, torch::kDouble);
    Fail(
        "MatchPriors: image {}: gt box {} = ({}, {}, {}, {}) has no area, expected x2 > x1 and "
        "y2 > y1",
        i, k, box[0].item<double>(), box[1].item<double>(), box[2].item<double>(),
        box[3].item<double>());
  });
  return gt;
}

// Forced (ground truth, prior) pairs of one image (see matcher.h, step 1), greedily over the
// image's candidates: `iou_at[g][c]` is the IoU of ground truth g with prior `prior_at[g][c]`,
// its c-th best. A ground truth's choice is always among its top min(G, P) priors, because
// fewer than G priors are taken before it chooses, so the candidate lists suffice.
template <typename IouRows, typename PriorRows>
void AppendForcedMatches(const IouRows& iou_at, const PriorRows& prior_at, int64_t num_gt,
                         int64_t num_candidates, int64_t image, std::vector<int64_t>& images,
                         std::vector<int64_t>& gts, std::vector<int64_t>& priors) {
  std::vector<bool> gt_done(num_gt, false);
  std::vector<int64_t> taken;  // priors already forced in this image (at most G)
  for (int64_t step = 0; step < std::min(num_gt, num_candidates); ++step) {
    double best_iou = 0;  // pairs need IoU > 0
    int64_t best_gt = -1, best_prior = -1;
    for (int64_t g = 0; g < num_gt; ++g) {
      if (gt_done[g]) continue;
      for (int64_t c = 0; c < num_candidates; ++c) {
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
    images.push_back(image);
    gts.push_back(best_gt);
    priors.push_back(best_prior);
  }
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

  const int64_t batch = static_cast<int64_t>(gt_boxes.size());
  const int64_t num_priors = priors.size(0);
  MatchTargets out;
  out.loc = torch::zeros({batch, num_priors, 4}, priors.options());
  out.labels = torch::zeros({batch, num_priors}, priors.options().dtype(torch::kLong));
  if (batch == 0) return out;
  const PaddedGroundTruth gt = PadAndCheck(gt_boxes, gt_labels, priors);
  const int64_t most = gt.boxes.size(1);
  if (most == 0) return out;

  // The whole batch at once: per-prior tensor work is B*G*P elements in a few large ops.
  torch::Tensor iou =
      BoxIou(gt.boxes.reshape({-1, 4}), CenterToCorner(priors)).reshape({batch, most, num_priors});
  iou.masked_fill_(~gt.valid.unsqueeze(2), -1.0);  // padding never wins
  auto [best_iou, best_gt] = iou.max(/*dim=*/1);   // [B, P]
  torch::Tensor positive = best_iou >= iou_threshold;

  const int64_t candidates = std::min(most, num_priors);
  auto [top_iou, top_prior] = iou.topk(candidates, /*dim=*/2);  // [B, G, K]
  const torch::Tensor host_iou = top_iou.to(torch::kCPU, torch::kDouble).contiguous();
  const torch::Tensor host_prior = top_prior.to(torch::kCPU).contiguous();
  const auto iou_at = host_iou.accessor<double, 3>();
  const auto prior_at = host_prior.accessor<int64_t, 3>();
  std::vector<int64_t> images, gts, forced;
  for (int64_t i = 0; i < batch; ++i)
    AppendForcedMatches(iou_at[i], prior_at[i], gt.counts[i], candidates, i, images, gts, forced);
  const auto to_device = [&](std::vector<int64_t>& v) {
    return torch::tensor(v, torch::kLong).to(priors.device());
  };
  const torch::Tensor image_index = to_device(images), prior_index = to_device(forced);
  best_gt.index_put_({image_index, prior_index}, to_device(gts));  // forced overrides step 2
  positive.index_put_({image_index, prior_index}, true);

  out.labels = torch::where(positive, gt.labels.gather(1, best_gt), torch::zeros_like(best_gt));
  const torch::Tensor matched =
      gt.boxes.gather(1, best_gt.unsqueeze(2).expand({batch, num_priors, 4}));  // [B, P, 4]
  // Background priors may point at padding (log 0 = -inf): where() keeps them out.
  const torch::Tensor loc = EncodeBoxes(matched, priors, variances);
  out.loc = torch::where(positive.unsqueeze(2), loc, torch::zeros_like(loc));
  return out;
}

}  // namespace scratchdet::box
