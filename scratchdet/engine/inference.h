// A trained run loaded back for evaluation or detection: `scratchdet eval|detect --run DIR`.
#pragma once

#include <torch/types.h>

#include <nlohmann/json.hpp>
#include <opencv2/core/mat.hpp>
#include <string>
#include <vector>

#include "scratchdet/engine/image_detections.h"
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

// Detects objects in one BGR image with the paper's post-processing; keeps those with
// score >= min_score.
std::vector<ImageDetection> DetectImage(model::SsdDetectorImpl& detector, const cv::Mat& image,
                                        int input_size, const torch::Device& device,
                                        double min_score);

}  // namespace scratchdet::engine
