// Detections in an image's pixel coordinates: what evaluation scores and `detect` prints.
// No OpenCV here (drawing is draw_detections.h).
#pragma once

#include <vector>

#include "scratchdet/box/postprocess.h"

namespace scratchdet::engine {

// One detection in pixel coordinates (continuous, x1 y1 x2 y2) of the given image.
struct ImageDetection {
  int class_index = 0;
  double score = 0;
  double x1 = 0, y1 = 0, x2 = 0, y2 = 0;
};

// One image's post-processed detections (normalised xyxy, labels >= 1) in pixel coordinates
// of a width x height image: boxes clipped to the image, class index = label - 1.
std::vector<ImageDetection> ToImageDetections(const box::Detections& detections, int width,
                                              int height);

}  // namespace scratchdet::engine
