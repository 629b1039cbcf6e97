#include "scratchdet/engine/inference.h"

#include <fmt/format.h>
#include <torch/utils.h>

#include <algorithm>
#include <filesystem>

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

}  // namespace scratchdet::engine
