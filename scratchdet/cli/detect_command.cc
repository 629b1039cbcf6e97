// `scratchdet detect --run DIR --images PATH... --out DIR`: run a trained detector on images,
// write each with its boxes drawn, and a COCO results JSON of all detections.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <opencv2/imgcodecs.hpp>

#include "scratchdet/cli/command.h"
#include "scratchdet/core/atomic_file.h"
#include "scratchdet/core/error.h"
#include "scratchdet/core/json_text.h"
#include "scratchdet/core/strings.h"
#include "scratchdet/data/dataset.h"
#include "scratchdet/engine/draw_detections.h"
#include "scratchdet/engine/inference.h"

namespace scratchdet::cli {
namespace {

namespace fs = std::filesystem;

struct DetectArgs {
  std::string run_dir;
  std::vector<std::string> images;
  std::string out;
  std::string device = "cpu";
  double min_score = 0.3;
};

std::vector<std::string> ExpandImages(const std::vector<std::string>& inputs) {
  std::vector<std::string> files;
  for (const std::string& input : inputs) {
    if (fs::is_directory(input)) {
      std::vector<std::string> found;
      for (const auto& entry : fs::directory_iterator(input)) {
        std::string ext = entry.path().extension().string();
        ext = AsciiLower(ext);
        if (ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp")
          found.push_back(entry.path().string());
      }
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::exists(input)) {
      files.push_back(input);
    } else {
      Fail("{}: no such image or folder", input);
    }
  }
  if (files.empty()) Fail("detect: no images found in the given paths");
  return files;
}

int RunDetect(const DetectArgs& args) {
  const torch::Device device(args.device);
  engine::LoadedRun run = engine::LoadRun(args.run_dir, device);
  const std::vector<std::string> files = ExpandImages(args.images);
  fs::create_directories(args.out);
  nlohmann::json results = nlohmann::json::array();
  nlohmann::json images = nlohmann::json::array();
  for (size_t i = 0; i < files.size(); ++i) {
    const cv::Mat image = data::DecodeImage(files[i]);
    const std::vector<engine::ImageDetection> detections = engine::DetectImage(
        *run.detector, image, run.config.input_size, device, args.min_score);
    const std::string name = fs::path(files[i]).stem().string();
    const std::string drawn = args.out + "/" + name + ".jpg";
    if (!cv::imwrite(drawn, engine::DrawDetections(image, detections, run.class_names)))
      Fail("{}: cannot write image", drawn);
    images.push_back({{"id", i}, {"file_name", files[i]}, {"width", image.cols},
                      {"height", image.rows}});
    for (const engine::ImageDetection& d : detections)
      results.push_back({{"image_id", i},
                         {"category_id", d.class_index},
                         {"category", run.class_names.at(d.class_index)},
                         {"bbox", {d.x1, d.y1, d.x2 - d.x1, d.y2 - d.y1}},
                         {"score", d.score}});
    fmt::print("{}: {} detections -> {}\n", files[i], detections.size(), drawn);
  }
  WriteFileAtomic(args.out + "/detections.json", JsonText(results, 1) + "\n");
  WriteFileAtomic(args.out + "/images.json", JsonText(images, 1) + "\n");
  fmt::print("COCO results: {}/detections.json (image ids: {}/images.json)\n", args.out,
             args.out);
  return 0;
}

const CommandRegistrar kRegistrar(
    "detect", "Detect objects in images with a trained run; draws boxes, writes COCO JSON",
    [](CLI::App& app) {
      auto args = std::make_shared<DetectArgs>();
      app.add_option("--run", args->run_dir, "run directory (result.json + model.pt)")
          ->required();
      app.add_option("--images", args->images, "image files or folders")->required();
      app.add_option("--out", args->out, "output folder")->required();
      app.add_option("--device", args->device, "cpu | cuda | cuda:N")->capture_default_str();
      app.add_option("--min-score", args->min_score, "draw/write detections scoring at least")
          ->capture_default_str();
      return [args] { return RunDetect(*args); };
    });

}  // namespace
}  // namespace scratchdet::cli
