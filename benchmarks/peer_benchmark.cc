// Ours against torchvision on the same LibTorch, in one run (issue 12; benchmarks/README.md,
// "Against torchvision"): ssd300_vgg16 with 21 classes at 300 px, 2 threads, the same glibc
// allocator setting for both sides.
//   training step, batch 4: matching, forward, MultiBox loss, backward, SGD update -- the
//     detector's Loss() as runs train it (channels-last) / torchvision's model(images, targets)
//     + backward + step;
//   inference, batch 1: forward and the paper's post-processing -- Predict() / torchvision's
//     model.eval()(images).
// Medians over the steps after two warm-up steps, seconds per image; ratios > 1: ours faster.
// scratchdet300 is timed too (ours only: torchvision has no such model).
//
//   bazel build //benchmarks:peer_benchmark && bazel-bin/benchmarks/peer_benchmark [STEPS]
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/optim/sgd.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "scratchdet/core/allocator.h"
#include "scratchdet/model/model_summary.h"
#include "scratchdet/model/ssd.h"

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

struct Timing {
  double train_s_per_image = 0, infer_s_per_image = 0;
  double gmacs = 0;  // conv multiply-accumulates per image (forward)
};

// The conv peak of this machine: a VGG conv4-sized 3x3 convolution (256 -> 256 channels,
// 38 x 38, batch 4, channels-last as the detector runs), forward, GFLOP/s (2 FLOPs per MAC).
double ConvPeakGflops() {
  torch::NoGradGuard no_grad;
  const torch::Tensor x =
      torch::randn({4, 256, 38, 38}).contiguous(torch::MemoryFormat::ChannelsLast);
  const torch::Tensor w =
      torch::randn({256, 256, 3, 3}).contiguous(torch::MemoryFormat::ChannelsLast);
  const double flops = 2.0 * 4 * 256 * 256 * 9 * 38 * 38;
  std::vector<double> rates;
  for (int step = 0; step < 12; ++step) {
    const auto t0 = Clock::now();
    const torch::Tensor y = torch::conv2d(x, w, {}, 1, 1);
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    if (step >= 2) rates.push_back(flops / s / 1e9);
  }
  return Median(rates);
}

Timing TimeOurs(const json& model, int train_steps, int infer_steps) {
  json config = model;
  config["num_classes"] = 21;
  auto detector = scratchdet::model::BuildDetector(config, 0);
  const double gmacs = scratchdet::model::SummarizeModel(*detector, 300, 300).macs / 1e9;
  scratchdet::model::ToChannelsLast(*detector);  // the default memory format of every run
  torch::optim::SGD sgd(detector->parameters(),
                        torch::optim::SGDOptions(1e-3).momentum(0.9).weight_decay(5e-4));
  torch::manual_seed(0);
  const torch::Tensor images =
      torch::rand({4, 3, 300, 300}).contiguous(torch::MemoryFormat::ChannelsLast);
  std::vector<torch::Tensor> boxes, labels;
  for (int b = 0; b < 4; ++b) {
    boxes.push_back(torch::tensor({{0.1f, 0.1f, 0.4f, 0.5f}, {0.5f, 0.3f, 0.9f, 0.8f}}));
    labels.push_back(torch::tensor({1, 3}, torch::kInt64));
  }
  detector->train();
  std::vector<double> train;
  for (int step = 0; step < 2 + train_steps; ++step) {
    const auto t0 = Clock::now();
    sgd.zero_grad();
    detector->Loss(images, boxes, labels).terms.total.backward();
    sgd.step();
    if (step >= 2) train.push_back(std::chrono::duration<double>(Clock::now() - t0).count() / 4);
  }
  detector->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor one = images.narrow(0, 0, 1).contiguous(torch::MemoryFormat::ChannelsLast);
  std::vector<double> infer;
  for (int step = 0; step < 2 + infer_steps; ++step) {
    const auto t0 = Clock::now();
    const auto detections = detector->Predict(one);
    if (step >= 2) infer.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return {Median(train), Median(infer), gmacs};
}

json TimeTorchvision(const std::string& script, int threads, int train_steps, int infer_steps) {
  const std::string command = fmt::format(
      "MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=268435456 /usr/bin/python3 {} {} "
      "{} {}",
      script, threads, train_steps, infer_steps);
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return json();
  std::string out;
  char buffer[4096];
  while (fgets(buffer, sizeof(buffer), pipe)) out += buffer;
  if (pclose(pipe) != 0) return json();
  return json::parse(out.substr(out.rfind('{')));
}

}  // namespace

int main(int argc, char** argv) {
  // The same setting as the Python side's environment: glibc keeps freed activation memory.
  scratchdet::core::TuneAllocatorForTraining();
  const int threads = 2;
  const int steps = argc > 1 ? std::atoi(argv[1]) : 5;
  torch::set_num_threads(threads);
  const char* srcdir = std::getenv("RUNFILES_DIR");
  const std::string script =
      std::string(srcdir ? srcdir : (std::string(argv[0]) + ".runfiles").c_str()) +
      "/scratchdet/benchmarks/torchvision_peer.py";

  fmt::print("threads {}, {} training steps (batch 4) and {} inference steps (batch 1) after "
             "2 warm-up steps, 300 px, 21 classes; medians, s/image\n\n",
             threads, steps, 2 * steps);
  const double peak = ConvPeakGflops();
  const json tv = TimeTorchvision(script, threads, steps, 2 * steps);
  const Timing ours = TimeOurs({{"preset", "ssd300_vgg16"}}, steps, 2 * steps);
  const Timing scratchdet = TimeOurs({{"preset", "scratchdet300"}}, steps, 2 * steps);
  // Shares of the conv peak: inference (forward + post-processing) does 2 x MACs FLOPs per
  // image, a training step about 3 x that (forward, and backward for inputs and weights).
  auto share = [&](const Timing& t) {
    return fmt::format("{:.0f} % / {:.0f} %", 100 * 2 * t.gmacs / t.infer_s_per_image / peak,
                       100 * 6 * t.gmacs / t.train_s_per_image / peak);
  };
  fmt::print("conv peak (3x3, 256->256, 38x38, batch 4, channels-last, forward): {:.0f} GFLOP/s\n\n",
             peak);
  fmt::print("| model | GMACs/image | training step, s/image | inference, s/image | share of peak, "
             "inference / training |\n|---|---|---|---|---|\n");
  fmt::print("| ours ssd300_vgg16 | {:.2f} | {:.3f} | {:.3f} | {} |\n", ours.gmacs,
             ours.train_s_per_image, ours.infer_s_per_image, share(ours));
  if (tv.is_object()) {
    const double t = tv["train_s_per_image"], i = tv["infer_s_per_image"];
    const Timing theirs{t, i, ours.gmacs};
    fmt::print("| torchvision ssd300_vgg16 ({} / torch {}) | {:.2f} | {:.3f} | {:.3f} | {} |\n",
               tv["torchvision"].get<std::string>(), tv["torch"].get<std::string>(), ours.gmacs,
               t, i, share(theirs));
    fmt::print("| ours scratchdet300 | {:.2f} | {:.3f} | {:.3f} | {} |\n\n", scratchdet.gmacs,
               scratchdet.train_s_per_image, scratchdet.infer_s_per_image, share(scratchdet));
    fmt::print("speed-up over torchvision: training {:.2f}x (target >= 1.3x), inference {:.2f}x "
               "(target >= 1.5x)\n",
               t / ours.train_s_per_image, i / ours.infer_s_per_image);
  } else {
    fmt::print("| ours scratchdet300 | {:.2f} | {:.3f} | {:.3f} | {} |\n\n", scratchdet.gmacs,
               scratchdet.train_s_per_image, scratchdet.infer_s_per_image, share(scratchdet));
    fmt::print("torchvision could not be timed ({} failed): no ratios\n", script);
    return 1;
  }
  return 0;
}
