// One annotated image as read from disk, before any augmentation.
#pragma once

#include <array>
#include <cstdint>
#include <opencv2/core/mat.hpp>
#include <string>
#include <vector>

namespace scratchdet::data {

// Box coordinates are 0-based *continuous* pixels: the image covers [0, width] x [0, height]
// and pixel (i, j) is the unit square [j, j+1] x [i, i+1]. A box covering pixel columns
// a..b inclusive is x1 = a, x2 = b + 1, so its width x2 - x1 is the number of pixels. File
// formats are converted to this convention once, in their reader (pixel_convention.h for VOC).
struct Sample {
  std::string image_id;    // unique within the dataset (VOC: the file stem; COCO: file stem)
  std::string image_path;  // the image file
  cv::Mat image;           // BGR uint8 as decoded; empty when loaded with AnnotationOnly()
  std::vector<std::array<float, 4>> boxes;  // (x1, y1, x2, y2) continuous pixels
  std::vector<int64_t> labels;              // class index 0..C-1 (training label = index + 1)
  std::vector<uint8_t> difficult;           // VOC "difficult" (ignored by the VOC evaluator)
  std::vector<uint8_t> crowd;               // COCO "iscrowd" (never a training target)
  int width = 0, height = 0;                // of the image on disk
};

}  // namespace scratchdet::data
