// A trained run loaded back for evaluation or detection: `scratchdet eval|detect --run DIR`.
#pragma once

#include <torch/types.h>

#include <nlohmann/json.hpp>
#include <opencv2/core/mat.hpp>
#include <string>
#include <vector>

#include "scratchdet/box/postprocess.h"
#include "scratchdet/engine/train_config.h"
#include "scratchdet/model/ssd.h"

namespace scratchdet::engine {

struct LoadedRun {
  TrainConfig config;
  nlohmann::json result;  // the run's result.json
  std::vector<std::string> class_names;
  model::SsdDetector detector{nullptr};  // eval mode, weights from model.pt
};

// Reads DIR/result.json (config, classes) and DIR/model.pt. Errors name the file.
LoadedRun LoadRun(const std::string& run_dir, const torch::Device& device);

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

// Detects objects in one BGR image with the paper's post-processing; keeps those with
// score >= min_score.
std::vector<ImageDetection> DetectImage(model::SsdDetectorImpl& detector, const cv::Mat& image,
                                        int input_size, const torch::Device& device,
                                        double min_score);

// Draws boxes with class names and scores onto a copy of `image`.
cv::Mat DrawDetections(const cv::Mat& image, const std::vector<ImageDetection>& detections,
                       const std::vector<std::string>& class_names);

}  // namespace scratchdet::engine
