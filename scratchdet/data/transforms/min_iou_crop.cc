#include "scratchdet/data/transforms/min_iou_crop.h"

#include <algorithm>
#include <cmath>

namespace scratchdet::data {

double BoxIou(const std::array<float, 4>& a, const std::array<float, 4>& b) {
  const double iw = std::min(a[2], b[2]) - std::max(a[0], b[0]);
  const double ih = std::min(a[3], b[3]) - std::max(a[1], b[1]);
  if (iw <= 0 || ih <= 0) return 0;
  const double inter = iw * ih;
  const double area_a = double(a[2] - a[0]) * (a[3] - a[1]);
  const double area_b = double(b[2] - b[0]) * (b[3] - b[1]);
  return inter / (area_a + area_b - inter);
}

AnnotatedImage CropWithCentreRule(const AnnotatedImage& input, const cv::Rect& crop) {
  AnnotatedImage output;
  output.image = input.image(crop).clone();
  const float x0 = crop.x, y0 = crop.y, x1 = crop.x + crop.width, y1 = crop.y + crop.height;
  for (size_t k = 0; k < input.size(); ++k) {
    const auto& b = input.boxes[k];
    const float cx = 0.5f * (b[0] + b[2]), cy = 0.5f * (b[1] + b[3]);
    if (cx < x0 || cx > x1 || cy < y0 || cy > y1) continue;
    output.boxes.push_back({std::max(b[0], x0) - x0, std::max(b[1], y0) - y0,
                            std::min(b[2], x1) - x0, std::min(b[3], y1) - y0});
    output.labels.push_back(input.labels[k]);
    output.difficult.push_back(input.difficult[k]);
  }
  return output;
}

AnnotatedImage MinIouCrop::Apply(AnnotatedImage input, Rng& rng) const {
  const int width = input.image.cols, height = input.image.rows;
  std::vector<cv::Rect> candidates = {cv::Rect(0, 0, width, height)};
  for (const double min_iou : options_.min_ious) {
    for (int trial = 0; trial < options_.max_trials; ++trial) {
      const double scale = rng.Uniform(options_.min_scale, options_.max_scale);
      double aspect = rng.Uniform(options_.min_aspect, options_.max_aspect);
      // Keeps both sides within the image.
      aspect = std::clamp(aspect, scale * scale, 1.0 / (scale * scale));
      const double w = scale * std::sqrt(aspect), h = scale / std::sqrt(aspect);
      const double x = rng.Uniform(0, 1 - w), y = rng.Uniform(0, 1 - h);
      // Clamped: with scale near 1, rounding can make w exceed 1 and x slightly negative.
      const int px0 = std::max(0, static_cast<int>(std::floor(x * width)));
      const int py0 = std::max(0, static_cast<int>(std::floor(y * height)));
      const int px1 = std::min(width, static_cast<int>(std::ceil((x + w) * width)));
      const int py1 = std::min(height, static_cast<int>(std::ceil((y + h) * height)));
      if (px1 <= px0 || py1 <= py0) continue;
      const cv::Rect crop(px0, py0, px1 - px0, py1 - py0);
      bool satisfied = min_iou < 0;
      const std::array<float, 4> crop_box = {float(px0), float(py0), float(px1), float(py1)};
      for (size_t k = 0; k < input.size() && !satisfied; ++k)
        satisfied = BoxIou(crop_box, input.boxes[k]) >= min_iou;
      if (satisfied) {
        candidates.push_back(crop);
        break;
      }
    }
  }
  const cv::Rect chosen =
      candidates[rng.UniformInt(0, static_cast<int64_t>(candidates.size()) - 1)];
  if (chosen == cv::Rect(0, 0, width, height)) return input;
  return CropWithCentreRule(input, chosen);
}

}  // namespace scratchdet::data
