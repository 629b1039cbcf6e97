// COCO files for evaluation: an instances file (annotations/instances_val2017.json) and a
// results file (the detections list the COCO server accepts).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "scratchdet/eval/coco_eval.h"

namespace scratchdet::eval {

struct CocoImageInfo {
  int64_t id = 0;
  std::string file_name;
  int width = 0, height = 0;  // 0 when absent
};

struct CocoCategory {
  int64_t id = 0;
  std::string name;
};

struct CocoInstances {
  std::string path;
  std::vector<CocoImageInfo> images;
  std::vector<CocoCategory> categories;
  std::vector<CocoGroundTruth> annotations;  // in file order
};

// Requires "images" (each with an integer "id"), "categories" ("id", "name") and
// "annotations" ("image_id", "category_id", "bbox" [x, y, w, h] with w, h >= 0, "area";
// "iscrowd" 0/1 defaults to 0). Throws scratchdet::Error naming the file and the entry
// (e.g. "annotations[17]: missing 'area'") for malformed JSON, a missing or mistyped field,
// a repeated image or category id, or an annotation of an unknown image or category.
CocoInstances ReadCocoInstances(const std::string& path);

// A JSON array of {"image_id", "category_id", "bbox": [x, y, w, h], "score"}, in file order.
// Throws scratchdet::Error naming the file and entry index for malformed JSON, a missing or
// mistyped field, or an image or category id that `instances` does not have.
std::vector<CocoDetection> ReadCocoResults(const std::string& path, const CocoInstances& instances);

}  // namespace scratchdet::eval
