#include "scratchdet/box/multibox_loss.h"

#include <ATen/core/Reduction.h>
#include <torch/utils.h>

#include <algorithm>

#include "scratchdet/box/tensor_checks.h"
#include "scratchdet/core/error.h"

namespace scratchdet::box {

namespace {

void CheckInputs(const torch::Tensor& loc_pred, const torch::Tensor& conf_logits,
                 const MatchTargets& targets, const MultiBoxLossOptions& options) {
  if (!loc_pred.defined() || loc_pred.dim() != 3 || loc_pred.size(2) != 4)
    Fail("MultiBoxLoss: loc_pred expected [B, P, 4], got {}", ShapeString(loc_pred));
  const int64_t batch = loc_pred.size(0), priors = loc_pred.size(1);
  if (!conf_logits.defined() || conf_logits.dim() != 3 || conf_logits.size(0) != batch ||
      conf_logits.size(1) != priors || conf_logits.size(2) < 2)
    Fail("MultiBoxLoss: conf_logits expected [{}, {}, num_classes >= 2], got {}", batch, priors,
         ShapeString(conf_logits));
  if (!targets.loc.defined() || targets.loc.sizes() != loc_pred.sizes())
    Fail("MultiBoxLoss: targets.loc expected {}, got {}", ShapeString(loc_pred),
         ShapeString(targets.loc));
  if (!targets.labels.defined() || targets.labels.dim() != 2 || targets.labels.size(0) != batch ||
      targets.labels.size(1) != priors || targets.labels.scalar_type() != torch::kLong)
    Fail("MultiBoxLoss: targets.labels expected int64 [{}, {}], got {} {}", batch, priors,
         c10::toString(targets.labels.scalar_type()), ShapeString(targets.labels));
  if (!(options.neg_pos_ratio >= 0))
    Fail("MultiBoxLoss: neg_pos_ratio {} must be >= 0", options.neg_pos_ratio);
  if (targets.labels.numel() > 0) {
    const int64_t lo = targets.labels.min().item<int64_t>();
    const int64_t hi = targets.labels.max().item<int64_t>();
    if (lo < 0 || hi >= conf_logits.size(2))
      Fail("MultiBoxLoss: targets.labels range [{}, {}] outside [0, {}) for {} classes", lo, hi,
           conf_logits.size(2), conf_logits.size(2));
  }
}

}  // namespace

MultiBoxLossOutput MultiBoxLoss(const torch::Tensor& loc_pred, const torch::Tensor& conf_logits,
                                const MatchTargets& targets, const MultiBoxLossOptions& options) {
  CheckInputs(loc_pred, conf_logits, targets, options);
  const torch::Tensor& labels = targets.labels;
  const torch::Tensor positive = labels > 0;                                    // [B, P]
  const torch::Tensor positives_per_image = positive.sum(1, /*keepdim=*/true);  // [B, 1] int64
  const int64_t num_positives = positives_per_image.sum().item<int64_t>();
  const double normaliser = static_cast<double>(std::max<int64_t>(1, num_positives));

  // Masking with where() rather than multiplying keeps a non-finite value at an ignored prior
  // from turning the sum (or its gradient) into NaN.
  const torch::Tensor loc_terms =
      torch::smooth_l1_loss(loc_pred, targets.loc.to(loc_pred.dtype()), at::Reduction::None,
                            /*beta=*/1.0)
          .sum(2);  // [B, P]
  const torch::Tensor loc =
      torch::where(positive, loc_terms, torch::zeros_like(loc_terms)).sum() / normaliser;

  const torch::Tensor log_probs = torch::log_softmax(conf_logits, 2);  // [B, P, C]
  const torch::Tensor cross_entropy = -log_probs.gather(2, labels.unsqueeze(2)).squeeze(2);

  // Hard negative mining, paper Sec. 3: rank negatives by their (background) cross-entropy.
  // Positives get -1 so they rank after every negative (cross-entropy is >= 0).
  torch::Tensor mining = cross_entropy.detach().masked_fill(positive, -1.0);
  const torch::Tensor order =
      std::get<1>(torch::sort(mining, /*stable=*/true, /*dim=*/1, /*descending=*/true));
  const torch::Tensor rank = order.argsort(/*dim=*/int64_t{1});  // rank[b, p] = position of prior p
  const torch::Tensor negatives_per_image = (~positive).sum(1, /*keepdim=*/true);
  const torch::Tensor num_negatives = torch::min(
      (positives_per_image.to(torch::kDouble) * options.neg_pos_ratio).floor().to(torch::kLong),
      negatives_per_image);
  const torch::Tensor hard_negative = ~positive & (rank < num_negatives);
  const torch::Tensor conf =
      torch::where(positive | hard_negative, cross_entropy, torch::zeros_like(cross_entropy))
          .sum() /
      normaliser;

  MultiBoxLossOutput out;
  {
    const torch::NoGradGuard no_grad;
    const torch::Tensor ce = cross_entropy.detach();
    const torch::Tensor zero = torch::zeros_like(ce);
    out.conf_positive = torch::where(positive, ce, zero).sum().item<double>() / normaliser;
    out.conf_negative = torch::where(hard_negative, ce, zero).sum().item<double>() / normaliser;
  }
  out.loc = loc;
  out.conf = conf;
  out.total = options.loc_weight * loc + conf;
  out.num_positives = num_positives;
  return out;
}

}  // namespace scratchdet::box
