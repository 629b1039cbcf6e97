// `scratchdet show-batch`: draws the ground-truth boxes of training batches exactly as the
// network receives them (after augmentation, resize and mean subtraction), for checking that
// images and targets agree (detectron2's tools/visualize_data.py plays the same role).
#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "scratchdet/cli/command.h"
#include "scratchdet/core/error.h"
#include "scratchdet/data/loader.h"
#include "scratchdet/data/transforms/ssd_pipeline.h"
#include "scratchdet/data/transforms/subtract_mean.h"
#include "scratchdet/data/voc_dataset.h"

namespace scratchdet::cli {
namespace {

struct Options {
  std::string root, split = "trainval", out;
  int input_size = 128;
  int count = 8;
  int64_t seed = 0;
  bool no_augment = false;
};

int Run(const Options& o) {
  data::VocDatasetOptions dataset_options;
  dataset_options.root = o.root;
  dataset_options.spec = o.split;
  auto dataset = std::make_shared<data::VocDataset>(dataset_options);
  data::DataLoaderOptions loader_options;
  loader_options.batch_size = o.count;
  loader_options.input_size = o.input_size;
  loader_options.workers = 0;
  loader_options.seed = static_cast<uint64_t>(o.seed);
  loader_options.train = true;
  if (o.no_augment) loader_options.transform = data::SsdTestTransform(o.input_size);
  data::DataLoader loader(dataset, loader_options);
  const data::Batch batch = *loader.Next();
  std::filesystem::create_directories(o.out);
  const std::vector<std::string>& names = dataset->class_names();
  for (int64_t b = 0; b < batch.size(); ++b) {
    // [3, H, W] BGR minus the mean -> [H, W, 3] uint8 BGR.
    const torch::Tensor mean = torch::tensor(
        {data::kSsdMeanBgr[0], data::kSsdMeanBgr[1], data::kSsdMeanBgr[2]}, torch::kFloat32);
    const torch::Tensor hwc =
        (batch.images[b].permute({1, 2, 0}) + mean).clamp(0, 255).to(torch::kUInt8).contiguous();
    const int h = static_cast<int>(hwc.size(0)), w = static_cast<int>(hwc.size(1));
    cv::Mat image = cv::Mat(h, w, CV_8UC3, hwc.data_ptr<uint8_t>()).clone();
    const int scale = std::max(1, 320 / std::max(h, w));
    cv::resize(image, image, cv::Size(w * scale, h * scale), 0, 0, cv::INTER_NEAREST);
    const torch::Tensor boxes = batch.boxes[b];
    for (int64_t k = 0; k < boxes.size(0); ++k) {
      const cv::Point p1(static_cast<int>(boxes[k][0].item<float>() * w * scale),
                         static_cast<int>(boxes[k][1].item<float>() * h * scale));
      const cv::Point p2(static_cast<int>(boxes[k][2].item<float>() * w * scale),
                         static_cast<int>(boxes[k][3].item<float>() * h * scale));
      cv::rectangle(image, p1, p2, cv::Scalar(0, 0, 255), 1);
      const int64_t label = batch.labels[b][k].item<int64_t>() - 1;
      cv::putText(image, names.at(label), p1 + cv::Point(2, 12), cv::FONT_HERSHEY_SIMPLEX, 0.4,
                  cv::Scalar(0, 255, 255), 1);
    }
    const std::string path = fmt::format("{}/{:02d}_{}.png", o.out, b, batch.image_ids[b]);
    if (!cv::imwrite(path, image)) Fail("{}: cannot write image", path);
    fmt::print("{}: {} boxes\n", path, boxes.size(0));
  }
  return 0;
}

const CommandRegistrar kRegistrar(
    "show-batch",
    "draw one training batch with its targets, as the network sees it (augmentation checks)",
    [](CLI::App& app) {
      auto o = std::make_shared<Options>();
      app.add_option("--root", o->root, "VOC-layout dataset root (e.g. a make-shapes folder)")
          ->required();
      app.add_option("--split", o->split, "image set")->capture_default_str();
      app.add_option("--out", o->out, "output folder for PNGs")->required();
      app.add_option("--input-size", o->input_size, "network input side")->capture_default_str();
      app.add_option("--count", o->count, "images (one batch)")->capture_default_str();
      app.add_option("--seed", o->seed, "loader seed")->capture_default_str();
      app.add_flag("--no-augment", o->no_augment, "test transform only (resize, mean)");
      return [o] { return Run(*o); };
    });

}  // namespace
}  // namespace scratchdet::cli
