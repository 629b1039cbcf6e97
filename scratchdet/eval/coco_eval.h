// COCO bounding-box evaluation in memory, with the semantics of pycocotools' COCOeval
// (iouType "bbox"): the 12 summary numbers the paper reports (Table E, COCO test-dev AP etc.).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

namespace scratchdet::eval {

// Boxes are COCO [x, y, width, height] in pixels, continuous (no +1 convention).
struct CocoGroundTruth {
  int64_t image_id = 0;
  int64_t category_id = 0;
  double x = 0, y = 0, w = 0, h = 0;
  // The annotation's `area` field (segmentation area in COCO files, not w * h): it decides the
  // small/medium/large range, as in pycocotools.
  double area = 0;
  bool iscrowd = false;
};

struct CocoDetection {
  int64_t image_id = 0;
  int64_t category_id = 0;
  double score = 0;
  double x = 0, y = 0, w = 0, h = 0;  // area range by w * h, as pycocotools' loadRes sets it
};

struct CocoEvalOptions {
  // Detections kept per image and category, ascending; the summary's AR1/AR10/AR100 use them
  // in order and every other number uses the last.
  std::array<int, 3> max_dets = {1, 10, 100};
};

// The names of CocoEvalResult::stats, in pycocotools' summarize() order.
const std::array<std::string, 12>& CocoStatNames();

struct CocoEvalResult {
  CocoEvalOptions options;
  // AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl as fractions; -1 where no
  // category has a ground truth in the range (pycocotools' convention).
  std::array<double, 12> stats{};
  // AP@[.50:.95], all areas, max_dets[2] per category id; nullopt without ground truth.
  std::map<int64_t, std::optional<double>> per_category_ap;
  int64_t num_images = 0;  // images with a ground truth or a detection
  int64_t num_ground_truths = 0;
  int64_t num_detections = 0;
};

// Evaluates like COCOeval.evaluate(); accumulate(); summarize() with iouThrs .50:.05:.95,
// 101 recall points and area ranges all / small (< 32^2) / medium / large (> 96^2), bounds
// inclusive on both sides:
// - per image and category, detections by descending score (ties in input order), the first
//   max_dets[2] kept; IoU without +1; for a crowd ground truth IoU = intersection / detection
//   area, and a crowd can match any number of detections;
// - ground truths that are crowd or outside the area range are "ignored": a detection prefers a
//   non-ignored match, a detection matched to an ignored ground truth counts as neither TP nor
//   FP, and an unmatched detection outside the area range is ignored too;
// - per category the curve runs over all images' detections by descending score (ties: image id
//   ascending, then rank in the image); precision is made monotone and read at recall
//   0, 0.01, ..., 1 (0 beyond the last recall); AP averages over thresholds, recall points and
//   categories with a non-ignored ground truth.
// Throws scratchdet::Error for a non-finite value or a negative width, height or area.
CocoEvalResult EvaluateCoco(const std::vector<CocoGroundTruth>& ground_truths,
                            const std::vector<CocoDetection>& detections,
                            const CocoEvalOptions& options = {});

// {"AP": ..., "AP50": ..., ..., "ARl": ..., "per_category": {"<id>": ap|null}, "max_dets": [..],
//  "num_images": n, "num_ground_truths": n, "num_detections": n}.
nlohmann::json ToJson(const CocoEvalResult& result);

// pycocotools' twelve summary lines, e.g.
// " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.327".
std::string FormatCocoSummary(const CocoEvalResult& result);

}  // namespace scratchdet::eval
