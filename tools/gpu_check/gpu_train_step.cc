// The GPU training-step benchmark of issue 14 (tools/gpu_check.sh runs it): one SGD step
// (matching, forward, MultiBox loss, backward, update) of `scratchdet300` and `ssd300_vgg16`
// at 300 px, 21 classes, channels-last, random images with three boxes each, in fp32 and bf16
// (and fp16 with its loss scale). Prints images/s and the peak memory per configuration and
// writes them to --json FILE. --device cpu with a small --batch/--iterations smoke-tests it
// on a machine without a GPU.
//
//   gpu_train_step [--device cuda] [--batch 32] [--warmup 5] [--iterations 20] [--json FILE]
#include <ATen/Context.h>
#include <fmt/format.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "scratchdet/box/matcher.h"
#include "scratchdet/engine/peak_memory.h"
#include "scratchdet/engine/precision.h"
#include "scratchdet/engine/trainer.h"
#include "scratchdet/model/ssd.h"

namespace {

using nlohmann::json;
using scratchdet::engine::Precision;

void Synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

json Measure(const std::string& preset, Precision precision, const torch::Device& device,
             int batch, int warmup, int iterations) {
  auto model = scratchdet::model::BuildDetector(json{{"preset", preset}, {"num_classes", 21}}, 0);
  model->to(device);
  scratchdet::model::ToChannelsLast(*model);
  model->train();
  torch::manual_seed(0);
  const torch::Tensor images =
      torch::randn({batch, 3, 300, 300}).to(device).contiguous(torch::MemoryFormat::ChannelsLast);
  std::vector<torch::Tensor> boxes, labels;
  for (int i = 0; i < batch; ++i) {
    boxes.push_back(torch::tensor({{0.1f, 0.1f, 0.85f, 0.9f},
                                   {0.5f, 0.3f, 0.8f, 0.6f},
                                   {0.05f, 0.6f, 0.13f, 0.68f}})
                        .to(device));
    labels.push_back(torch::tensor({1 + i % 20, 7, 13}, torch::kInt64).to(device));
  }
  torch::optim::SGD sgd(model->parameters(),
                        torch::optim::SGDOptions(0.05).momentum(0.9).weight_decay(5e-4));
  scratchdet::engine::TrainerOptions options;
  options.schedule.base_lr = 0.05;
  scratchdet::engine::LossScaler scaler;
  if (precision == Precision::kFp16) options.loss_scaler = &scaler;
  scratchdet::engine::Trainer::MicroStep step = [&](int64_t, int) {
    const scratchdet::engine::AutocastScope autocast(device, precision);
    return model->Loss(images, boxes, labels).terms.total;
  };
  options.iterations = warmup;
  scratchdet::engine::Trainer(options, model->parameters(), sgd, step).Run(0);
  Synchronize(device);
  scratchdet::engine::ResetPeakGpuMemory(device);
  const auto start = std::chrono::steady_clock::now();
  options.iterations = warmup + iterations;
  const auto outcome = scratchdet::engine::Trainer(options, model->parameters(), sgd, step).Run(warmup);
  Synchronize(device);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto peak = scratchdet::engine::PeakGpuMemoryMb(device);
  json row = {{"model", preset},
              {"precision", scratchdet::engine::PrecisionName(precision)},
              {"batch", batch},
              {"iterations", iterations},
              {"seconds", seconds},
              {"images_per_second", batch * iterations / seconds},
              {"gpu_peak_memory_mb", peak ? json(*peak) : json()},
              {"completed", outcome == scratchdet::engine::TrainOutcome::kCompleted}};
  if (precision == Precision::kFp16) row["skipped_updates"] = scaler.skipped_steps();
  fmt::print("{:14s} {:5s} batch {:3d}: {:8.1f} images/s, peak {} MiB\n", preset,
             scratchdet::engine::PrecisionName(precision), batch, batch * iterations / seconds,
             peak ? fmt::format("{:.0f}", *peak) : std::string("n/a"));
  return row;
}

}  // namespace

int main(int argc, char** argv) {
  std::string device_name = "cuda", json_path;
  int batch = 32, warmup = 5, iterations = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--device") device_name = value;
    else if (flag == "--batch") batch = std::stoi(value);
    else if (flag == "--warmup") warmup = std::stoi(value);
    else if (flag == "--iterations") iterations = std::stoi(value);
    else if (flag == "--json") json_path = value;
    else {
      fmt::print(stderr, "gpu_train_step: unknown flag {}\n", flag);
      return 2;
    }
  }
  const torch::Device device(device_name);
  if (device.is_cuda() && !torch::cuda::is_available()) {
    fmt::print(stderr, "gpu_train_step: no CUDA device\n");
    return 2;
  }
  // Training as a GPU user would run it: cuDNN picks its algorithms, TF32 allowed for fp32
  // (PyTorch's default for convolutions).
  scratchdet::engine::ApplyDeterminismSettings(/*cudnn_benchmark=*/true, /*deterministic=*/false);
  json report = {{"device", device_name},
                 {"libtorch", fmt::format("{}.{}.{}", TORCH_VERSION_MAJOR, TORCH_VERSION_MINOR,
                                          TORCH_VERSION_PATCH)},
                 {"rows", json::array()}};
  std::vector<Precision> precisions = {Precision::kFp32, Precision::kBf16};
  if (device.is_cuda()) precisions.push_back(Precision::kFp16);
  for (const char* preset : {"scratchdet300", "ssd300_vgg16"})
    for (Precision precision : precisions)
      report["rows"].push_back(Measure(preset, precision, device, batch, warmup, iterations));
  if (!json_path.empty()) std::ofstream(json_path) << report.dump(2) << "\n";
  return 0;
}
