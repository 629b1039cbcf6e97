// What every augmentation step takes and returns: an image with its boxes.
#pragma once

#include <array>
#include <cstdint>
#include <opencv2/core/mat.hpp>
#include <vector>

namespace scratchdet::data {

struct AnnotatedImage {
  // BGR, CV_8UC3 until SubtractMean makes it CV_32FC3; steps that only move
  // pixels accept both.
  cv::Mat image;
  std::vector<std::array<float, 4>> boxes;  // (x1, y1, x2, y2) continuous pixels of `image`
  std::vector<int64_t> labels;
  std::vector<uint8_t> difficult;

  size_t size() const { return boxes.size(); }
};

}  // namespace scratchdet::data
