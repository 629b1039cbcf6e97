// A COCO "instances" JSON plus its image folder as a dataset.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "scratchdet/data/dataset.h"

namespace scratchdet::data {

struct CocoDatasetOptions : DatasetOptions {
  std::string annotation_file;  // instances_<split>.json
  std::string image_dir;        // folder the JSON's file_name entries are relative to
};

// Reads the JSON at construction. Categories become contiguous class indices in ascending
// category-id order (COCO's 80 ids have gaps); images are ordered by ascending image id;
// image_id is the file name without extension. bbox [x, y, w, h] (continuous pixels) becomes
// (x, y, x + w, y + h), clipped to the image when it overshoots by at most one pixel (rounding
// in the official files). iscrowd objects are kept with crowd = 1 for evaluation; the loader
// never makes them training targets.
//
// A malformed file (not JSON, missing "images"/"annotations"/"categories", an annotation naming
// an unknown image id) always throws. Per image (BadSampleError under kError, counted under
// kSkip): an annotation with a non-numeric bbox, w or h <= 0 or a box outside the image
// (kInvalidAnnotation), an unknown category id (kUnknownClass), no annotations
// (kEmptyAnnotation unless allow_empty), a missing image file (kMissingImage).
class CocoDataset : public InMemoryDataset {
 public:
  explicit CocoDataset(const CocoDatasetOptions& options);

  // Contiguous class index -> COCO category id (for writing results in COCO's format).
  int64_t category_id(int64_t class_index) const { return category_ids_.at(class_index); }
  const std::vector<int64_t>& category_ids() const { return category_ids_; }
  // The COCO image id of sample `index`.
  int64_t coco_image_id(size_t index) const { return coco_image_ids_.at(index); }

 private:
  std::vector<int64_t> category_ids_;
  std::vector<int64_t> coco_image_ids_;
};

}  // namespace scratchdet::data
