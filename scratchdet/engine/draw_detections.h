// Detections drawn onto an image (`scratchdet detect`).
#pragma once

#include <opencv2/core/mat.hpp>
#include <string>
#include <vector>

#include "scratchdet/engine/image_detections.h"

namespace scratchdet::engine {

// Draws boxes with class names and scores onto a copy of `image`.
cv::Mat DrawDetections(const cv::Mat& image, const std::vector<ImageDetection>& detections,
                       const std::vector<std::string>& class_names);

}  // namespace scratchdet::engine
