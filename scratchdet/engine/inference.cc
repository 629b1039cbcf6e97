#include "scratchdet/engine/inference.h"

#include <fmt/format.h>
#include <torch/utils.h>

#include <algorithm>
#include <filesystem>
#include <opencv2/imgproc.hpp>

#include "scratchdet/core/atomic_file.h"
#include "scratchdet/core/error.h"
#include "scratchdet/data/loader.h"
#include "scratchdet/engine/checkpoint.h"

namespace scratchdet::engine {

using nlohmann::json;

LoadedRun LoadRun(const std::string& run_dir, const torch::Device& device) {
  const std::string result_path = run_dir + "/result.json";
  LoadedRun run;
  try {
    run.result = json::parse(ReadFile(result_path));
  } catch (const json::parse_error& e) {
    Fail("{}: not valid JSON: {}", result_path, e.what());
  }
  if (!run.result.contains("config") || !run.result.contains("model"))
    Fail("{}: no 'config'/'model' (is this a finished training run?)", result_path);
  run.config = ParseTrainConfig(run.result.at("config"));
  if (!run.result.contains("data") || !run.result["data"].contains("classes"))
    Fail("{}: no data.classes recorded", result_path);
  run.class_names = run.result["data"]["classes"].get<std::vector<std::string>>();
  run.detector = model::BuildDetector(run.result.at("model"), run.config.seed);
  LoadWeights(run_dir + "/model.pt", *run.detector);
  if (run.config.memory_format == "channels_last") model::ToChannelsLast(*run.detector);
  run.detector->to(device);
  run.detector->eval();
  return run;
}

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

std::vector<ImageDetection> DetectImage(model::SsdDetectorImpl& detector, const cv::Mat& image,
                                        int input_size, const torch::Device& device,
                                        double min_score) {
  const torch::Tensor input = data::TestImageTensor(image, input_size).unsqueeze(0).to(device);
  const box::Detections d = detector.Predict(input)[0];
  std::vector<ImageDetection> out;
  for (const ImageDetection& det : ToImageDetections(d, image.cols, image.rows))
    if (det.score >= min_score) out.push_back(det);
  return out;
}

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
