// One SGD step of detection training (forward, matching, MultiBox loss, backward, update)
// for the models the experiments use, at the paper's input size and at the mini profile's.
// These figures decide the mini profile's batch and iteration budget (docs/mini.md).
#include <benchmark/benchmark.h>
#include <torch/torch.h>
#include <torch/optim/sgd.h>
#include <torch/utils.h>

#include <chrono>

#include "scratchdet/box/matcher.h"
#include "scratchdet/box/multibox_loss.h"
#include "scratchdet/model/ssd.h"

namespace {

using nlohmann::json;

// args: model index, input size, width x 1000, batch
const std::vector<json> kModels = {
    {{"backbone", "vgg16"}, {"extras", "ssd"}},
    {{"backbone", "vgg16_bn"}, {"extras", "ssd"}, {"bn_extras", true}, {"bn_pred", true}},
    {{"backbone", "resnet18"}, {"extras", "residual"}, {"bn_extras", true}, {"bn_pred", true}},
    {{"backbone", "root_resnet18"}, {"extras", "residual"}, {"bn_extras", true}, {"bn_pred", true}},
    {{"preset", "scratchdet300"}},
};

// The same two ground-truth boxes (classes 1 and 3) in every image of a batch.
struct FixedBoxes {
  std::vector<torch::Tensor> boxes, labels;
};

FixedBoxes TwoBoxesPerImage(int batch) {
  FixedBoxes out;
  for (int b = 0; b < batch; ++b) {
    out.boxes.push_back(torch::tensor({{0.1f, 0.1f, 0.4f, 0.5f}, {0.5f, 0.3f, 0.9f, 0.8f}}));
    out.labels.push_back(torch::tensor({1, 3}, torch::kInt64));
  }
  return out;
}

void BM_TrainStep(benchmark::State& state) {
  torch::set_num_threads(2);
  json config = kModels.at(state.range(0));
  const int size = static_cast<int>(state.range(1));
  config["width_multiplier"] = state.range(2) / 1000.0;
  config["num_classes"] = 11;
  const int batch = static_cast<int>(state.range(3));
  auto detector = scratchdet::model::BuildDetector(config, 0);
  torch::optim::SGD sgd(detector->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
  const torch::Tensor priors = detector->Priors(size, size);
  torch::manual_seed(0);
  const torch::Tensor images = torch::randn({batch, 3, size, size});
  const FixedBoxes fixed = TwoBoxesPerImage(batch);
  const std::vector<torch::Tensor>& boxes = fixed.boxes;
  const std::vector<torch::Tensor>& labels = fixed.labels;
  const auto targets = scratchdet::box::MatchPriors(boxes, labels, priors,
                                                    detector->prior_config().variances);
  for (auto _ : state) {
    sgd.zero_grad();
    const auto out = detector->forward(images);
    const auto loss = scratchdet::box::MultiBoxLoss(out.loc, out.conf, targets);
    loss.total.backward();
    sgd.step();
  }
  state.SetLabel(config.dump());
  state.counters["img/s"] =
      benchmark::Counter(static_cast<double>(batch) * state.iterations(), benchmark::Counter::kIsRate);
}

// The mini profile's ScratchDet300 step at batch 4..32 (96 px, width 0.25, mmdet tail,
// ssd_mini96 priors, channels-last as training runs it), split into its parts: matching,
// forward, loss, backward, the gradient norm the curves record, and the SGD update. Decides
// mini's batch: the cost per image is the same from batch 8 up (benchmarks/README.md).
void BM_MiniStepParts(benchmark::State& state) {
  using Clock = std::chrono::steady_clock;
  torch::set_num_threads(2);
  const json config = {{"preset", "scratchdet300"}, {"width_multiplier", 0.25},
                       {"extras_tail", "mmdet"},    {"prior_config", "ssd_mini96"},
                       {"num_classes", 11}};
  const int size = 96;
  const int batch = static_cast<int>(state.range(0));
  auto detector = scratchdet::model::BuildDetector(config, 0);
  scratchdet::model::ToChannelsLast(*detector);
  torch::optim::SGD sgd(detector->parameters(),
                        torch::optim::SGDOptions(0.01).momentum(0.9).weight_decay(5e-4));
  const torch::Tensor priors = detector->Priors(size, size);
  torch::manual_seed(0);
  const torch::Tensor images =
      torch::randn({batch, 3, size, size}).contiguous(torch::MemoryFormat::ChannelsLast);
  const FixedBoxes fixed = TwoBoxesPerImage(batch);
  const std::vector<torch::Tensor>& boxes = fixed.boxes;
  const std::vector<torch::Tensor>& labels = fixed.labels;
  double parts[6] = {0, 0, 0, 0, 0, 0};
  auto seconds = [](Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
  };
  for (auto _ : state) {
    const auto t0 = Clock::now();
    sgd.zero_grad();
    const auto targets = scratchdet::box::MatchPriors(boxes, labels, priors,
                                                      detector->prior_config().variances);
    const auto t1 = Clock::now();
    const auto out = detector->forward(images);
    const auto t2 = Clock::now();
    const auto loss = scratchdet::box::MultiBoxLoss(out.loc, out.conf, targets);
    const auto t3 = Clock::now();
    loss.total.backward();
    const auto t4 = Clock::now();
    double norm = 0;
    for (const auto& p : detector->parameters()) norm += p.grad().pow(2).sum().item<double>();
    benchmark::DoNotOptimize(norm);
    const auto t5 = Clock::now();
    sgd.step();
    const auto t6 = Clock::now();
    const Clock::time_point t[] = {t0, t1, t2, t3, t4, t5, t6};
    for (int k = 0; k < 6; ++k) parts[k] += seconds(t[k], t[k + 1]);
  }
  const char* names[] = {"match_ms", "forward_ms", "loss_ms", "backward_ms", "gradnorm_ms",
                         "sgd_ms"};
  for (int k = 0; k < 6; ++k)
    state.counters[names[k]] = 1000 * parts[k] / static_cast<double>(state.iterations());
  state.counters["img/s"] =
      benchmark::Counter(static_cast<double>(batch) * state.iterations(), benchmark::Counter::kIsRate);
}

BENCHMARK(BM_MiniStepParts)
    ->Arg(4)->Arg(8)->Arg(16)->Arg(32)
    ->Unit(benchmark::kMillisecond)
    ->MinTime(3.0)
    ->UseRealTime();

// The paper's 300 input (maps 38/19/10/5/3/1) at small widths, batch 8.
BENCHMARK(BM_TrainStep)
    ->ArgsProduct({{0, 1, 2, 3, 4}, {300}, {125}, {8}})
    ->ArgsProduct({{1, 4}, {300}, {250}, {8}})
    ->Unit(benchmark::kMillisecond)
    ->MinTime(2.0)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
