#include "scratchdet/engine/draw_detections.h"

#include <fmt/format.h>

#include <algorithm>
#include <opencv2/imgproc.hpp>

namespace scratchdet::engine {

cv::Mat DrawDetections(const cv::Mat& image, const std::vector<ImageDetection>& detections,
                       const std::vector<std::string>& class_names) {
  cv::Mat canvas = image.clone();
  for (const ImageDetection& d : detections) {
    // A fixed colour per class, spread around the hue circle.
    const double hue = 180.0 * ((d.class_index * 37) % 180) / 180.0;
    cv::Mat hsv(1, 1, CV_8UC3, cv::Scalar(hue, 220, 255)), bgr;
    cv::cvtColor(hsv, bgr, cv::COLOR_HSV2BGR);
    const cv::Vec3b c = bgr.at<cv::Vec3b>(0, 0);
    const cv::Scalar colour(c[0], c[1], c[2]);
    const cv::Point p1(static_cast<int>(d.x1), static_cast<int>(d.y1));
    const cv::Point p2(static_cast<int>(d.x2), static_cast<int>(d.y2));
    cv::rectangle(canvas, p1, p2, colour, 2);
    const std::string name = d.class_index >= 0 && d.class_index < (int)class_names.size()
                                 ? class_names[d.class_index]
                                 : fmt::format("class{}", d.class_index);
    const std::string label = fmt::format("{} {:.2f}", name, d.score);
    int baseline = 0;
    const cv::Size text = cv::getTextSize(label, cv::FONT_HERSHEY_SIMPLEX, 0.4, 1, &baseline);
    const cv::Point origin(p1.x, std::max(text.height + 2, p1.y));
    cv::rectangle(canvas, origin - cv::Point(0, text.height + 2),
                  origin + cv::Point(text.width, baseline), colour, cv::FILLED);
    cv::putText(canvas, label, origin, cv::FONT_HERSHEY_SIMPLEX, 0.4, cv::Scalar(0, 0, 0), 1);
  }
  return canvas;
}

}  // namespace scratchdet::engine
