// The GPU check's training run (issue 14, item 6; tools/gpu_check.sh runs it): ScratchDet300
// (the paper's model, width 1, 300 px input, BN everywhere, from scratch) trained on the
// `shapes` benchmark for a fixed wall-clock budget, then evaluated with VOC07 mAP on the test
// split. It shows that training on the GPU learns, and how fast, without the C++ OpenCV that
// the library's loader needs: `tools/gpu_check.sh --prepare` writes the dataset here (the mini
// profile's shapes layout, 2000 + 200 images of 120 px, as JPEGs plus boxes in JSON), the
// images are decoded with stb_image and kept on the device, and the augmentation runs there
// (device_augment.h says how it differs from the CPU pipeline).
//
// Recipe: the paper's SGD (lr 0.05, momentum 0.9, weight decay 5e-4, linear warm-up) at batch
// 32 (the paper's per-GPU batch); the number of iterations is fixed after 40 timed ones so the
// run fills --seconds, with the mini profile's lr steps (x0.1 at 82 % and 93 %).
//
//   gpu_shapes_train --data DIR [--device cuda] [--seconds 300] [--batch 32]
//                    [--precision fp32|bf16|fp16] [--seed 0] [--test-images N]
//                    [--calibration 40] [--log-interval 50] [--json FILE]
#include <fmt/format.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <chrono>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include "scratchdet/data/pixel_convention.h"
#include "scratchdet/data/rng.h"
#include "scratchdet/engine/peak_memory.h"
#include "scratchdet/engine/precision.h"
#include "scratchdet/engine/trainer.h"
#include "scratchdet/eval/voc_eval.h"
#include "scratchdet/model/ssd.h"
#include "tools/gpu_check/device_augment.h"
#include "tools/gpu_check/stb_decode.h"

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
namespace engine = scratchdet::engine;
namespace gpu_check = scratchdet::gpu_check;

struct Split {
  torch::Tensor images;  // uint8 [N, H, W, 3] BGR, on the device
  std::vector<std::string> ids;
  std::vector<std::vector<std::array<float, 4>>> boxes;  // continuous pixels
  std::vector<std::vector<int64_t>> labels;              // 1..classes
  std::vector<std::vector<bool>> difficult;
};

// DIR/NAME.json: {"classes": [...], "images": [{"file", "boxes": [[x1, y1, x2, y2]], "labels",
// "difficult"}]}, written by tools/gpu_check.sh --prepare.
Split LoadSplit(const std::string& dir, const std::string& name, int64_t limit,
                const torch::Device& device, std::vector<std::string>* classes) {
  const std::string path = dir + "/" + name + ".json";
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open (run tools/gpu_check.sh --prepare)");
  const json index = json::parse(in);
  *classes = index.at("classes").get<std::vector<std::string>>();
  Split split;
  std::vector<torch::Tensor> images;
  for (const json& image : index.at("images")) {
    if (limit > 0 && static_cast<int64_t>(images.size()) == limit) break;
    images.push_back(gpu_check::DecodeBgr(dir + "/" + image.at("file").get<std::string>()));
    if (images.back().sizes() != images.front().sizes())
      throw std::runtime_error(fmt::format("{}: {} is {}x{}, the first image {}x{}", path,
                                           image.at("file").get<std::string>(),
                                           images.back().size(1), images.back().size(0),
                                           images.front().size(1), images.front().size(0)));
    split.ids.push_back(image.at("file"));
    split.boxes.push_back(image.at("boxes").get<std::vector<std::array<float, 4>>>());
    split.labels.push_back(image.at("labels").get<std::vector<int64_t>>());
    split.difficult.push_back(image.at("difficult").get<std::vector<bool>>());
  }
  if (images.empty()) throw std::runtime_error(path + ": no images");
  split.images = torch::stack(images).to(device);
  return split;
}

// Boxes of a batch: one host-to-device copy, split on the device.
void TargetsToDevice(const std::vector<gpu_check::AugmentDraw>& draws, const torch::Device& device,
                     std::vector<torch::Tensor>& boxes, std::vector<torch::Tensor>& labels) {
  std::vector<float> flat;
  std::vector<int64_t> flat_labels, counts;
  for (const auto& d : draws) {
    for (const auto& b : d.boxes) flat.insert(flat.end(), b.begin(), b.end());
    flat_labels.insert(flat_labels.end(), d.labels.begin(), d.labels.end());
    counts.push_back(static_cast<int64_t>(d.boxes.size()));
  }
  const auto n = static_cast<int64_t>(flat_labels.size());
  const torch::Tensor all_boxes = torch::from_blob(flat.data(), {n, 4}, torch::kFloat32).to(device, false, /*copy=*/true);
  const torch::Tensor all_labels = torch::tensor(flat_labels, torch::kInt64).to(device);
  boxes = all_boxes.split_with_sizes(counts);
  labels = all_labels.split_with_sizes(counts);
}

json Evaluate(scratchdet::model::SsdDetectorImpl& model, const Split& test,
              const std::vector<std::string>& classes, int batch, double* images_per_second,
              int64_t* non_finite) {
  model.eval();
  const auto height = test.images.size(1), width = test.images.size(2);
  std::vector<scratchdet::eval::VocGroundTruth> gts;
  std::vector<scratchdet::eval::VocDetection> dets;
  const auto n = static_cast<int64_t>(test.ids.size());
  const auto start = Clock::now();
  for (int64_t first = 0; first < n; first += batch) {
    std::vector<int64_t> indices;
    std::vector<gpu_check::AugmentDraw> draws;
    for (int64_t i = first; i < std::min(n, first + batch); ++i) {
      indices.push_back(i);
      draws.push_back(gpu_check::IdentityDraw(width, height, {}, {}));
    }
    const auto detections = model.Predict(gpu_check::RenderBatch(test.images, indices, draws, 300));
    for (size_t j = 0; j < indices.size(); ++j) {
      // One copy to the host per image, then plain reads (not a tensor op per number).
      const auto boxes = detections[j].boxes.to(torch::kCPU).to(torch::kFloat64).contiguous();
      const auto scores = detections[j].scores.to(torch::kCPU).to(torch::kFloat64).contiguous();
      const auto labels = detections[j].labels.to(torch::kCPU).contiguous();
      const auto box = boxes.accessor<double, 2>();
      const auto score = scores.accessor<double, 1>();
      const auto label = labels.accessor<int64_t, 1>();
      for (int64_t k = 0; k < boxes.size(0); ++k) {
        if (!(std::isfinite(box[k][0]) && std::isfinite(box[k][1]) && std::isfinite(box[k][2]) &&
              std::isfinite(box[k][3]))) {  // an untrained model's exp() overflow
          ++*non_finite;
          continue;
        }
        auto v = scratchdet::data::ContinuousToVoc(box[k][0] * width, box[k][1] * height,
                                                   box[k][2] * width, box[k][3] * height);
        v[2] = std::max(v[2], v[0]);
        v[3] = std::max(v[3], v[1]);
        dets.push_back({test.ids[indices[j]], static_cast<int>(label[k] - 1), score[k], v[0],
                        v[1], v[2], v[3]});
      }
    }
  }
  *images_per_second = n / std::chrono::duration<double>(Clock::now() - start).count();
  for (int64_t i = 0; i < n; ++i)
    for (size_t k = 0; k < test.boxes[i].size(); ++k) {
      const auto& b = test.boxes[i][k];
      const auto v = scratchdet::data::ContinuousToVoc(b[0], b[1], b[2], b[3]);
      gts.push_back({test.ids[i], static_cast<int>(test.labels[i][k] - 1), v[0], v[1], v[2], v[3],
                     test.difficult[i][k]});
    }
  return scratchdet::eval::ToJson(scratchdet::eval::EvaluateVoc(classes, gts, dets));
}

// Prints and records the mean loss every `interval` iterations.
class LossLog : public engine::TrainerHook {
 public:
  explicit LossLog(int64_t interval) : interval_(interval) {}
  void AfterIteration(engine::Trainer&, const engine::IterationRecord& r) override {
    window_.push_back(r.loss);
    if (r.iteration % interval_ == 0) {
      const double mean = std::accumulate(window_.begin(), window_.end(), 0.0) / window_.size();
      curve.push_back({{"iteration", r.iteration}, {"loss", mean}, {"lr", r.lr}});
      fmt::print("iter {:6d}  loss {:.3f}  lr {:.2e}\n", r.iteration, mean, r.lr);
      window_.clear();
    }
  }
  json curve = json::array();

 private:
  int64_t interval_;
  std::vector<double> window_;
};

void Synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

}  // namespace

int main(int argc, char** argv) try {
  std::string data_dir, device_name = "cuda", precision_name = "fp32", json_path;
  double seconds = 300;
  int batch = 32;
  int64_t seed = 0, test_limit = 0, calibration = 40, log_interval = 50;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--data") data_dir = value;
    else if (flag == "--device") device_name = value;
    else if (flag == "--seconds") seconds = std::stod(value);
    else if (flag == "--batch") batch = std::stoi(value);
    else if (flag == "--precision") precision_name = value;
    else if (flag == "--seed") seed = std::stoll(value);
    else if (flag == "--test-images") test_limit = std::stoll(value);
    else if (flag == "--log-interval") log_interval = std::max<int64_t>(1, std::stoll(value));
    else if (flag == "--calibration") calibration = std::max<int64_t>(2, std::stoll(value));
    else if (flag == "--json") json_path = value;
    else throw std::runtime_error("unknown flag " + flag);
  }
  if (data_dir.empty()) throw std::runtime_error("--data DIR is required");
  const torch::Device device(device_name);
  if (device.is_cuda() && !torch::cuda::is_available())
    throw std::runtime_error("no CUDA device");
  const engine::Precision precision = engine::ParsePrecision(precision_name);
  engine::ApplyDeterminismSettings(/*cudnn_benchmark=*/true, /*deterministic=*/false);
  torch::manual_seed(seed);

  std::vector<std::string> classes;
  const Split train = LoadSplit(data_dir, "trainval", 0, device, &classes);
  const Split test = LoadSplit(data_dir, "test", test_limit, device, &classes);
  const int width = train.images.size(2), height = train.images.size(1);
  fmt::print("shapes: {} train, {} test images of {}x{}, {} classes; device {}, {}\n",
             train.ids.size(), test.ids.size(), width, height, classes.size(), device_name,
             precision_name);

  // The paper's ScratchDet300 (Table D), from scratch.
  auto model = scratchdet::model::BuildDetector(
      json{{"preset", "scratchdet300"}, {"num_classes", classes.size() + 1}}, seed);
  model->to(device);
  scratchdet::model::ToChannelsLast(*model);
  model->train();
  torch::optim::SGD sgd(model->parameters(),
                        torch::optim::SGDOptions(0.05).momentum(0.9).weight_decay(5e-4));
  engine::TrainerOptions options;
  options.schedule.base_lr = 0.05;
  options.schedule.warmup_iterations = 100;
  engine::LossScaler scaler;
  if (precision == engine::Precision::kFp16) options.loss_scaler = &scaler;

  auto rng = scratchdet::data::Rng::Stream(static_cast<uint64_t>(seed), {14});
  std::vector<int64_t> order(train.ids.size());
  size_t cursor = order.size();
  engine::Trainer::MicroStep step = [&](int64_t, int) {
    std::vector<int64_t> indices;
    std::vector<gpu_check::AugmentDraw> draws;
    for (int b = 0; b < batch; ++b) {
      if (cursor == order.size()) {  // a new epoch, reshuffled
        std::iota(order.begin(), order.end(), 0);
        for (size_t i = order.size() - 1; i > 0; --i)
          std::swap(order[i], order[rng.UniformInt(0, static_cast<int64_t>(i))]);
        cursor = 0;
      }
      const int64_t i = order[cursor++];
      indices.push_back(i);
      draws.push_back(gpu_check::DrawAugment(width, height, train.boxes[i], train.labels[i], rng));
    }
    std::vector<torch::Tensor> boxes, labels;
    TargetsToDevice(draws, device, boxes, labels);
    const torch::Tensor images = gpu_check::RenderBatch(train.images, indices, draws, 300);
    const engine::AutocastScope autocast(device, precision);
    return model->Loss(images, boxes, labels).terms.total;
  };

  // Calibration: --calibration iterations (40), the second half timed, fix the length to
  // fill the budget.
  LossLog log(log_interval);
  const auto start = Clock::now();
  options.iterations = calibration / 2;
  engine::Trainer first(options, model->parameters(), sgd, step);
  first.AddHook(&log);
  if (first.Run(0) != engine::TrainOutcome::kCompleted) throw std::runtime_error(first.divergence());
  Synchronize(device);
  const auto timed = Clock::now();
  options.iterations = calibration;
  engine::Trainer second(options, model->parameters(), sgd, step);
  second.AddHook(&log);
  if (second.Run(calibration / 2) != engine::TrainOutcome::kCompleted)
    throw std::runtime_error(second.divergence());
  Synchronize(device);
  const double per_iteration =
      std::chrono::duration<double>(Clock::now() - timed).count() / (calibration / 2);
  const double left = seconds - std::chrono::duration<double>(Clock::now() - start).count();
  const int64_t total = calibration + std::max<int64_t>(0, static_cast<int64_t>(left / per_iteration));
  options.iterations = total;
  options.schedule.steps = {static_cast<int64_t>(0.82 * total), static_cast<int64_t>(0.93 * total)};
  fmt::print("{:.3f} s/iteration: {} iterations in {:.0f} s, lr x0.1 at {} and {}\n", per_iteration,
             total, seconds, options.schedule.steps[0], options.schedule.steps[1]);
  engine::Trainer rest(options, model->parameters(), sgd, step);
  rest.AddHook(&log);
  const auto outcome = rest.Run(calibration);
  Synchronize(device);
  const double train_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const auto peak = engine::PeakGpuMemoryMb(device);

  double eval_rate = 0;
  int64_t non_finite = 0;
  json voc;
  {
    torch::NoGradGuard no_grad;
    voc = Evaluate(*model, test, classes, batch, &eval_rate, &non_finite);
  }
  const double map = voc.value("mAP", json()).is_null() ? 0.0 : voc["mAP"].get<double>();
  fmt::print("ScratchDet300 on shapes, {} px input: VOC07 mAP {:.2f} % after {} iterations "
             "({:.0f} s, {:.1f} train images/s; evaluation {:.1f} images/s; peak {} MiB)\n",
             300, 100 * map, total, train_seconds, batch * total / train_seconds, eval_rate,
             peak ? fmt::format("{:.0f}", *peak) : std::string("n/a"));
  const json report = {
      {"device", device_name},
      {"libtorch", fmt::format("{}.{}.{}", TORCH_VERSION_MAJOR, TORCH_VERSION_MINOR,
                               TORCH_VERSION_PATCH)},
      {"model", "scratchdet300"},
      {"input_size", 300},
      {"precision", precision_name},
      {"batch", batch},
      {"seed", seed},
      {"iterations", total},
      {"completed", outcome == engine::TrainOutcome::kCompleted},
      {"train_seconds", train_seconds},
      {"train_images_per_second", batch * total / train_seconds},
      {"eval_images_per_second", eval_rate},
      {"gpu_peak_memory_mb", peak ? json(*peak) : json()},
      {"train_images", train.ids.size()},
      {"test_images", test.ids.size()},
      {"mAP", map},
      {"non_finite_detections_dropped", non_finite},
      {"voc", voc},
      {"loss_curve", log.curve}};
  if (!json_path.empty()) std::ofstream(json_path) << report.dump(2) << "\n";
  return outcome == engine::TrainOutcome::kCompleted ? 0 : 1;
} catch (const std::exception& e) {
  fmt::print(stderr, "gpu_shapes_train: {}\n", e.what());
  return 2;
}
