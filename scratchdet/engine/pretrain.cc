#include "scratchdet/engine/pretrain.h"

#include <fmt/format.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/sgd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <opencv2/imgproc.hpp>

#include "scratchdet/core/error.h"
#include "scratchdet/data/dataset.h"
#include "scratchdet/data/rng.h"
#include "scratchdet/data/loader.h"
#include "scratchdet/engine/lr_schedule.h"
#include "scratchdet/engine/trainer.h"
#include "scratchdet/model/init.h"
#include "scratchdet/model/torchvision_import.h"

namespace scratchdet::engine {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// One classification example: a whole image (ImageFolder) or an object crop (shapes).
struct Example {
  std::string path;
  size_t sample = 0;     // dataset index for crops
  bool crop = false;
  std::array<float, 4> box{};
  int64_t label = 0;
};

std::vector<Example> ObjectCrops(const data::DetectionDataset& dataset) {
  std::vector<Example> out;
  for (size_t i = 0; i < dataset.size(); ++i) {
    const data::Sample s = dataset.AnnotationOnly(i);
    for (size_t k = 0; k < s.boxes.size(); ++k) {
      const auto& b = s.boxes[k];
      // Tiny or difficult objects carry little class evidence in a crop.
      if (s.difficult[k] || b[2] - b[0] < 8 || b[3] - b[1] < 8) continue;
      out.push_back({s.image_path, i, true, b, s.labels[k]});
    }
  }
  return out;
}

std::vector<Example> ImageFolder(const std::string& root, int64_t& num_classes) {
  if (!fs::is_directory(root)) Fail("{}: pretrain ImageFolder root is not a directory", root);
  std::vector<std::string> classes;
  for (const auto& entry : fs::directory_iterator(root))
    if (entry.is_directory()) classes.push_back(entry.path().filename().string());
  std::sort(classes.begin(), classes.end());
  std::vector<Example> out;
  for (size_t c = 0; c < classes.size(); ++c) {
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(root + "/" + classes[c]))
      if (entry.is_regular_file()) files.push_back(entry.path().string());
    std::sort(files.begin(), files.end());
    for (const std::string& f : files) out.push_back({f, 0, false, {}, static_cast<int64_t>(c)});
  }
  if (out.empty()) Fail("{}: no images in <root>/<class>/ folders", root);
  num_classes = static_cast<int64_t>(classes.size());
  return out;
}

// Crop with 10% context on each side, clipped to the image.
cv::Mat CropWithContext(const cv::Mat& image, const std::array<float, 4>& b) {
  const float w = b[2] - b[0], h = b[3] - b[1];
  const int x1 = std::max(0, static_cast<int>(std::floor(b[0] - 0.1f * w)));
  const int y1 = std::max(0, static_cast<int>(std::floor(b[1] - 0.1f * h)));
  const int x2 = std::min(image.cols, static_cast<int>(std::ceil(b[2] + 0.1f * w)));
  const int y2 = std::min(image.rows, static_cast<int>(std::ceil(b[3] + 0.1f * h)));
  return image(cv::Rect(x1, y1, std::max(1, x2 - x1), std::max(1, y2 - y1)));
}

}  // namespace

json PretrainBackbone(model::SsdDetectorImpl& detector, const DataSetup& data,
                      const TrainConfig& config, const torch::Device& device, bool quiet) {
  const PretrainOptions& p = config.pretrain;
  json summary = {{"source", p.source}};
  if (p.source == "torchvision") {
    const model::TorchvisionImportReport report =
        model::ImportTorchvisionWeights(*detector.backbone(), p.path);
    summary["path"] = p.path;
    summary["imported_tensors"] = report.imported.size();
    summary["kept_initialised"] = report.kept_initialised;
    return summary;
  }
  int64_t num_classes = static_cast<int64_t>(data.class_names.size());
  std::vector<Example> examples;
  if (p.source == "shapes_crops") {
    if (!data.train) Fail("pretrain: shapes_crops needs the training set");
    examples = ObjectCrops(*data.train);
    if (examples.empty()) Fail("pretrain: the training set has no usable object crops");
  } else {
    examples = ImageFolder(p.path, num_classes);
    summary["path"] = p.path;
  }
  auto backbone = detector.backbone();
  torch::nn::Linear classifier(backbone->out_channels().back(), num_classes);
  // From the run's seed (model/init.h), not torch's global generator: pretraining is
  // reproducible like the rest of the run.
  model::InitializeWeights(*classifier, config.seed ^ 0x434C53ULL);
  classifier->to(device);
  std::vector<torch::Tensor> parameters = backbone->parameters();
  for (const auto& t : classifier->parameters()) parameters.push_back(t);
  torch::optim::SGD optimizer(parameters, torch::optim::SGDOptions(p.lr).momentum(0.9).weight_decay(
                                              config.solver.weight_decay));
  LrScheduleOptions schedule;
  schedule.base_lr = p.lr;
  schedule.warmup_iterations = std::min<int64_t>(p.iterations / 10, 500);
  schedule.steps = {p.iterations * 2 / 3, p.iterations * 8 / 9};
  backbone->train();
  double loss_value = 0, accuracy = 0;
  int64_t correct = 0, seen = 0;
  data::Rng rng(static_cast<uint64_t>(config.seed) ^ 0x5052455452ULL);
  // One batch of crops (or images) with a random horizontal flip; cross-entropy of a linear
  // classifier on the globally pooled last backbone map.
  auto micro_step = [&](int64_t it, int) {
    std::vector<torch::Tensor> images;
    std::vector<int64_t> labels;
    for (int b = 0; b < p.batch_size; ++b) {
      const Example& e = examples[rng.UniformInt(0, static_cast<int64_t>(examples.size()) - 1)];
      cv::Mat image = e.crop ? data.train->Load(e.sample).image : data::DecodeImage(e.path);
      if (e.crop) image = CropWithContext(image, e.box);
      if (rng.Uniform(0, 1) < 0.5) cv::flip(image, image, 1);
      images.push_back(data::TestImageTensor(image, p.input_size));
      labels.push_back(e.label);
    }
    const torch::Tensor target = torch::tensor(labels, torch::kInt64).to(device);
    const torch::Tensor features = backbone->forward(torch::stack(images).to(device)).back();
    const torch::Tensor logits = classifier->forward(features.mean({2, 3}));
    // Training accuracy over the last quarter of the iterations.
    if (it >= p.iterations * 3 / 4) {
      correct += (logits.argmax(1) == target).sum().item<int64_t>();
      seen += target.size(0);
    }
    return torch::nn::functional::cross_entropy(logits, target);
  };
  // The last loss, and progress every 50 iterations.
  struct PretrainProgress : TrainerHook {
    PretrainProgress(double& loss, bool quiet) : loss(loss), quiet(quiet) {}
    void AfterIteration(Trainer& trainer, const IterationRecord& r) override {
      loss = r.loss;
      const int64_t iterations = trainer.options().iterations;
      if (!quiet && (r.iteration % 50 == 0 || r.iteration == iterations))
        fmt::print(stderr, "pretrain {}/{} loss {:.3f} lr {:.2e}\n", r.iteration, iterations,
                   r.loss, r.lr);
    }
    double& loss;
    bool quiet;
  } progress(loss_value, quiet);
  TrainerOptions trainer_options;
  trainer_options.iterations = p.iterations;
  trainer_options.schedule = schedule;
  Trainer trainer(trainer_options, parameters, optimizer, micro_step);
  trainer.AddHook(&progress);
  if (trainer.Run(0) == TrainOutcome::kDiverged) Fail("pretrain: {}", trainer.divergence());
  accuracy = seen > 0 ? static_cast<double>(correct) / seen : 0.0;
  summary["iterations"] = p.iterations;
  summary["examples"] = examples.size();
  summary["classes"] = num_classes;
  summary["final_loss"] = loss_value;
  summary["train_accuracy_last_quarter"] = accuracy;
  return summary;
}

}  // namespace scratchdet::engine
