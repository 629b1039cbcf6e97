#include "scratchdet/eval/voc_eval.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <numeric>
#include <unordered_map>

#include "scratchdet/core/error.h"

namespace scratchdet::eval {

std::string ToString(IouThresholdMode mode) {
  return mode == IouThresholdMode::kDevkit ? "devkit" : "strict";
}

IouThresholdMode ParseIouThresholdMode(const std::string& name) {
  if (name == "devkit") return IouThresholdMode::kDevkit;
  if (name == "strict") return IouThresholdMode::kStrict;
  Fail("unknown IoU threshold mode '{}': expected devkit or strict", name);
}

namespace {

struct Box {
  double x1, y1, x2, y2;
};

void CheckBox(const char* what, size_t index, const std::string& image_id, const Box& b,
              int class_index, size_t num_classes) {
  if (class_index < 0 || static_cast<size_t>(class_index) >= num_classes)
    Fail("VOC eval: {} {} (image {}) has class index {} outside [0, {})", what, index, image_id,
         class_index, num_classes);
  if (!std::isfinite(b.x1) || !std::isfinite(b.y1) || !std::isfinite(b.x2) || !std::isfinite(b.y2))
    Fail("VOC eval: {} {} (image {}) has a non-finite coordinate", what, index, image_id);
  if (b.x2 < b.x1 || b.y2 < b.y1)
    Fail("VOC eval: {} {} (image {}) is inverted: ({}, {}, {}, {})", what, index, image_id, b.x1,
         b.y1, b.x2, b.y2);
}

double Iou(const Box& a, const Box& b, bool plus_one) {
  const double one = plus_one ? 1.0 : 0.0;
  const double iw = std::min(a.x2, b.x2) - std::max(a.x1, b.x1) + one;
  const double ih = std::min(a.y2, b.y2) - std::max(a.y1, b.y1) + one;
  if (iw <= 0 || ih <= 0) return 0.0;
  const double inter = iw * ih;
  const double uni =
      (a.x2 - a.x1 + one) * (a.y2 - a.y1 + one) + (b.x2 - b.x1 + one) * (b.y2 - b.y1 + one) - inter;
  return uni > 0 ? inter / uni : 0.0;
}

struct ClassGroundTruth {
  std::vector<Box> boxes;
  std::vector<bool> difficult;
};

VocClassResult EvaluateClass(const std::string& name,
                             const std::unordered_map<std::string, ClassGroundTruth>& by_image,
                             std::vector<const VocDetection*> detections,
                             const VocEvalOptions& options) {
  VocClassResult result;
  result.name = name;
  for (const auto& [image, gts] : by_image)
    for (bool d : gts.difficult) (d ? result.num_difficult : result.npos) += 1;
  result.num_detections = static_cast<int64_t>(detections.size());

  std::stable_sort(
      detections.begin(), detections.end(),
      [](const VocDetection* a, const VocDetection* b) { return a->score > b->score; });
  std::unordered_map<std::string, std::vector<bool>> taken;
  for (const auto& [image, gts] : by_image) taken[image].assign(gts.boxes.size(), false);

  int64_t tp = 0, fp = 0;
  for (const VocDetection* det : detections) {
    const Box box{det->x1, det->y1, det->x2, det->y2};
    bool is_tp = false;
    const auto it = by_image.find(det->image_id);
    if (it != by_image.end()) {
      const ClassGroundTruth& gts = it->second;
      double best = -1.0;
      size_t best_index = 0;
      for (size_t g = 0; g < gts.boxes.size(); ++g) {
        const double iou = Iou(box, gts.boxes[g], options.plus_one);
        if (iou > best) {  // first maximum wins, like argmax in both devkits
          best = iou;
          best_index = g;
        }
      }
      const bool passes = options.threshold_mode == IouThresholdMode::kDevkit
                              ? best >= options.iou_threshold
                              : best > options.iou_threshold;
      if (passes && gts.difficult[best_index]) {
        ++result.num_ignored;
        continue;
      }
      if (passes) {
        std::vector<bool>& flags = taken[det->image_id];
        if (!flags[best_index]) {
          flags[best_index] = true;
          is_tp = true;
        }
      }
    }
    (is_tp ? tp : fp) += 1;
    result.precision.push_back(static_cast<double>(tp) / static_cast<double>(tp + fp));
    if (result.npos > 0)
      result.recall.push_back(static_cast<double>(tp) / static_cast<double>(result.npos));
  }
  result.num_tp = tp;
  result.num_fp = fp;
  if (result.npos > 0)
    result.ap = VocAveragePrecision(result.recall, result.precision, options.metric);
  return result;
}

}  // namespace

VocEvalResult EvaluateVoc(const std::vector<std::string>& class_names,
                          const std::vector<VocGroundTruth>& ground_truths,
                          const std::vector<VocDetection>& detections,
                          const VocEvalOptions& options) {
  if (!(options.iou_threshold >= 0.0 && options.iou_threshold <= 1.0))
    Fail("VOC eval: IoU threshold {} outside [0, 1]", options.iou_threshold);
  const size_t num_classes = class_names.size();
  std::vector<std::unordered_map<std::string, ClassGroundTruth>> gt_by_class(num_classes);
  for (size_t i = 0; i < ground_truths.size(); ++i) {
    const VocGroundTruth& gt = ground_truths[i];
    const Box box{gt.x1, gt.y1, gt.x2, gt.y2};
    CheckBox("ground truth", i, gt.image_id, box, gt.class_index, num_classes);
    ClassGroundTruth& entry = gt_by_class[gt.class_index][gt.image_id];
    entry.boxes.push_back(box);
    entry.difficult.push_back(gt.difficult);
  }
  std::vector<std::vector<const VocDetection*>> det_by_class(num_classes);
  for (size_t i = 0; i < detections.size(); ++i) {
    const VocDetection& det = detections[i];
    CheckBox("detection", i, det.image_id, {det.x1, det.y1, det.x2, det.y2}, det.class_index,
             num_classes);
    if (!std::isfinite(det.score))
      Fail("VOC eval: detection {} (image {}) has a non-finite score", i, det.image_id);
    det_by_class[det.class_index].push_back(&det);
  }

  VocEvalResult result;
  result.options = options;
  double sum = 0.0;
  int defined = 0;
  for (size_t c = 0; c < num_classes; ++c) {
    result.per_class.push_back(
        EvaluateClass(class_names[c], gt_by_class[c], std::move(det_by_class[c]), options));
    const auto& ap = result.per_class.back().ap;
    if (ap.has_value()) {
      sum += *ap;
      ++defined;
    } else {
      result.excluded_classes.push_back(class_names[c]);
    }
  }
  if (defined > 0) result.mean_ap = sum / defined;
  return result;
}

nlohmann::json ToJson(const VocEvalResult& result) {
  nlohmann::json per_class = nlohmann::json::object();
  nlohmann::json npos = nlohmann::json::object();
  for (const VocClassResult& c : result.per_class) {
    per_class[c.name] = c.ap.has_value() ? nlohmann::json(*c.ap) : nlohmann::json(nullptr);
    npos[c.name] = c.npos;
  }
  return {
      {"mAP",
       result.mean_ap.has_value() ? nlohmann::json(*result.mean_ap) : nlohmann::json(nullptr)},
      {"per_class", per_class},
      {"metric", ToString(result.options.metric)},
      {"iou_threshold", result.options.iou_threshold},
      {"threshold_mode", ToString(result.options.threshold_mode)},
      {"plus_one", result.options.plus_one},
      {"excluded_classes", result.excluded_classes},
      {"npos", npos},
  };
}

}  // namespace scratchdet::eval
