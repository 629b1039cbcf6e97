#include "scratchdet/engine/image_detections.h"

#include <algorithm>

namespace scratchdet::engine {

std::vector<ImageDetection> ToImageDetections(const box::Detections& detections, int width,
                                              int height) {
  const torch::Tensor boxes = detections.boxes.to(torch::kCPU, torch::kFloat64);
  const torch::Tensor scores = detections.scores.to(torch::kCPU, torch::kFloat64);
  const torch::Tensor labels = detections.labels.to(torch::kCPU);
  const auto bx = boxes.accessor<double, 2>();
  const auto sc = scores.accessor<double, 1>();
  const auto lb = labels.accessor<int64_t, 1>();
  std::vector<ImageDetection> out;
  out.reserve(boxes.size(0));
  for (int64_t k = 0; k < boxes.size(0); ++k) {
    ImageDetection d;
    d.class_index = static_cast<int>(lb[k]) - 1;
    d.score = sc[k];
    d.x1 = std::clamp(bx[k][0], 0.0, 1.0) * width;
    d.y1 = std::clamp(bx[k][1], 0.0, 1.0) * height;
    d.x2 = std::clamp(bx[k][2], 0.0, 1.0) * width;
    d.y2 = std::clamp(bx[k][3], 0.0, 1.0) * height;
    out.push_back(d);
  }
  return out;
}

}  // namespace scratchdet::engine
