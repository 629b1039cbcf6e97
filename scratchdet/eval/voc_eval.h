// PASCAL VOC detection evaluation in memory: per-class AP and mAP.
//
// Semantics (../shared/docs/paper.md, "VOC evaluation semantics"): detections of a class are
// taken by descending score (ties keep input order); each is matched to the ground truth of the
// same class and image with the highest IoU, taken or not. It is a true positive when the IoU
// passes the threshold and that ground truth is neither difficult nor already taken; a match to a
// difficult ground truth is ignored (neither TP nor FP); a second hit on a taken ground truth,
// an IoU below the threshold, or an image without ground truth of the class is a false positive.
// Recall counts non-difficult ground truths only (npos).
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "scratchdet/eval/voc_ap.h"

namespace scratchdet::eval {

// Boxes are pixel coordinates of the original image, as in the annotation files (1-based,
// inclusive corners with the +1 convention); x2 >= x1, y2 >= y1.
struct VocGroundTruth {
  std::string image_id;
  int class_index = 0;  // into the class_names given to EvaluateVoc
  double x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  bool difficult = false;
};

struct VocDetection {
  std::string image_id;
  int class_index = 0;
  double score = 0;
  double x1 = 0, y1 = 0, x2 = 0, y2 = 0;
};

enum class IouThresholdMode {
  kDevkit,  // IoU >= threshold: the MATLAB devkit (VOCevaldet.m)
  kStrict,  // IoU > threshold: the widely used Python port (voc_eval.py)
};

// "devkit" / "strict"; ParseIouThresholdMode throws scratchdet::Error on anything else.
std::string ToString(IouThresholdMode mode);
IouThresholdMode ParseIouThresholdMode(const std::string& name);

struct VocEvalOptions {
  VocApMetric metric = VocApMetric::kVoc07;  // the paper reports VOC2007 11-point AP
  double iou_threshold = 0.5;
  IouThresholdMode threshold_mode = IouThresholdMode::kDevkit;
  // Widths and heights are x2 - x1 + 1 (both devkits); false: x2 - x1.
  bool plus_one = true;
};

struct VocClassResult {
  std::string name;
  // nullopt when the class has no non-difficult ground truth (AP undefined, excluded from mAP);
  // 0 when it has ground truth but no detections.
  std::optional<double> ap;
  int64_t npos = 0;            // non-difficult ground truths
  int64_t num_difficult = 0;   // difficult ground truths
  int64_t num_detections = 0;  // = num_tp + num_fp + num_ignored
  int64_t num_tp = 0;
  int64_t num_fp = 0;
  int64_t num_ignored = 0;  // matched a difficult ground truth
  // The curve after each counted (TP or FP) detection in score order. Ignored detections add
  // no point: they would repeat the previous one, which changes neither AP metric.
  std::vector<double> precision;
  std::vector<double> recall;  // empty when npos == 0
};

struct VocEvalResult {
  VocEvalOptions options;
  std::vector<VocClassResult> per_class;      // in class_names order
  std::optional<double> mean_ap;              // over classes with a defined AP; nullopt if none
  std::vector<std::string> excluded_classes;  // classes with an undefined AP
};

// Throws scratchdet::Error for a class_index outside class_names, a non-finite value, an
// inverted box (x2 < x1 or y2 < y1), or an IoU threshold outside [0, 1].
VocEvalResult EvaluateVoc(const std::vector<std::string>& class_names,
                          const std::vector<VocGroundTruth>& ground_truths,
                          const std::vector<VocDetection>& detections,
                          const VocEvalOptions& options = {});

// {"mAP": m|null, "per_class": {"<cls>": ap|null}, "metric": "voc07"|"area",
//  "iou_threshold": t, "threshold_mode": "devkit"|"strict", "plus_one": b,
//  "excluded_classes": [...], "npos": {"<cls>": n}}, APs as fractions in [0, 1].
nlohmann::json ToJson(const VocEvalResult& result);

}  // namespace scratchdet::eval
