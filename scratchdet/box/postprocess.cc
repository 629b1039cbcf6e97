#include "scratchdet/box/postprocess.h"

#include <algorithm>

#include "scratchdet/box/box_coder.h"
#include "scratchdet/box/tensor_checks.h"
#include "scratchdet/core/error.h"

namespace scratchdet::box {

namespace {

// Continuous IoU of two boxes, as BoxIou(kContinuous): empty extents are 0 and an empty union
// gives 0.
double PairIou(const float* a, const float* b) {
  const double iw = std::max(0.0, static_cast<double>(std::min(a[2], b[2])) - std::max(a[0], b[0]));
  const double ih = std::max(0.0, static_cast<double>(std::min(a[3], b[3])) - std::max(a[1], b[1]));
  const double inter = iw * ih;
  const double area_a = std::max(0.0, static_cast<double>(a[2]) - a[0]) *
                        std::max(0.0, static_cast<double>(a[3]) - a[1]);
  const double area_b = std::max(0.0, static_cast<double>(b[2]) - b[0]) *
                        std::max(0.0, static_cast<double>(b[3]) - b[1]);
  const double uni = area_a + area_b - inter;
  return uni > 0 ? inter / uni : 0.0;
}

// The first `k` entries of `order` (all if k < 0).
torch::Tensor Head(const torch::Tensor& order, int64_t k) {
  if (k < 0 || k >= order.size(0)) return order;
  return order.narrow(0, 0, k);
}

// Indices of `scores` [N] by descending score, equal scores by ascending index.
torch::Tensor DescendingOrder(const torch::Tensor& scores) {
  return std::get<1>(torch::sort(scores, /*stable=*/true, /*dim=*/0, /*descending=*/true));
}

}  // namespace

torch::Tensor Nms(const torch::Tensor& boxes, const torch::Tensor& scores, double iou_threshold) {
  CheckBoxes(boxes, "Nms: boxes");
  if (!scores.defined() || scores.dim() != 1 || scores.size(0) != boxes.size(0))
    Fail("Nms: scores expected [{}] for {} boxes, got {}", boxes.size(0), boxes.size(0),
         ShapeString(scores));
  const torch::Tensor order = DescendingOrder(scores);
  const torch::Tensor sorted =
      boxes.index_select(0, order).to(torch::kCPU, torch::kFloat).contiguous();
  const int64_t n = sorted.size(0);
  const float* data = sorted.data_ptr<float>();
  std::vector<bool> suppressed(n, false);
  std::vector<int64_t> kept;
  for (int64_t i = 0; i < n; ++i) {
    if (suppressed[i]) continue;
    kept.push_back(i);
    for (int64_t j = i + 1; j < n; ++j)
      if (!suppressed[j] && PairIou(data + 4 * i, data + 4 * j) > iou_threshold)
        suppressed[j] = true;
  }
  const torch::Tensor positions =
      torch::from_blob(kept.data(), {static_cast<int64_t>(kept.size())}, torch::kLong)
          .clone()
          .to(order.device());
  return order.index_select(0, positions);
}

std::vector<Detections> PostProcess(const torch::Tensor& loc, const torch::Tensor& conf_logits,
                                    const torch::Tensor& priors,
                                    const std::vector<double>& variances,
                                    const DetectionOptions& options) {
  if (!loc.defined() || loc.dim() != 3 || loc.size(2) != 4)
    Fail("PostProcess: loc expected [B, P, 4], got {}", ShapeString(loc));
  if (!conf_logits.defined() || conf_logits.dim() != 3 || conf_logits.size(0) != loc.size(0) ||
      conf_logits.size(1) != loc.size(1) || conf_logits.size(2) < 2)
    Fail("PostProcess: conf_logits expected [{}, {}, num_classes >= 2], got {}", loc.size(0),
         loc.size(1), ShapeString(conf_logits));
  const torch::Tensor boxes = DecodeBoxes(loc, priors, variances);  // [B, P, 4] xyxy
  const torch::Tensor probs = torch::softmax(conf_logits, 2);       // [B, P, C]
  const int64_t num_classes = conf_logits.size(2);

  std::vector<Detections> out;
  for (int64_t b = 0; b < loc.size(0); ++b) {
    std::vector<torch::Tensor> image_boxes, image_scores, image_labels;
    for (int64_t c = 1; c < num_classes; ++c) {
      const torch::Tensor class_scores = probs[b].select(1, c);  // [P]
      const torch::Tensor candidates = (class_scores > options.conf_threshold).nonzero().squeeze(1);
      if (candidates.numel() == 0) continue;
      const torch::Tensor scores = class_scores.index_select(0, candidates);
      const torch::Tensor best =
          candidates.index_select(0, Head(DescendingOrder(scores), options.top_k));
      const torch::Tensor class_boxes = boxes[b].index_select(0, best);
      const torch::Tensor best_scores = class_scores.index_select(0, best);
      const torch::Tensor keep = Nms(class_boxes, best_scores, options.nms_threshold);
      image_boxes.push_back(class_boxes.index_select(0, keep));
      image_scores.push_back(best_scores.index_select(0, keep));
      image_labels.push_back(torch::full({keep.size(0)}, c, keep.options()));
    }
    Detections det;
    if (image_boxes.empty()) {
      det.boxes = torch::zeros({0, 4}, boxes.options());
      det.scores = torch::zeros({0}, probs.options());
      det.labels = torch::zeros({0}, probs.options().dtype(torch::kLong));
    } else {
      const torch::Tensor all_scores = torch::cat(image_scores);
      const torch::Tensor order = Head(DescendingOrder(all_scores), options.keep_top_k);
      det.boxes = torch::cat(image_boxes).index_select(0, order);
      det.scores = all_scores.index_select(0, order);
      det.labels = torch::cat(image_labels).index_select(0, order);
    }
    out.push_back(std::move(det));
  }
  return out;
}

}  // namespace scratchdet::box
