// One SGD step of detection training (forward, matching, MultiBox loss, backward, update)
// at the mini and paper profiles' input sizes, for the models the experiments use. These
// figures decide the mini profile's iteration budget (README, "Profiles").
#include <benchmark/benchmark.h>
#include <torch/optim/sgd.h>
#include <torch/utils.h>

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
  std::vector<torch::Tensor> boxes, labels;
  for (int b = 0; b < batch; ++b) {
    boxes.push_back(torch::tensor({{0.1f, 0.1f, 0.4f, 0.5f}, {0.5f, 0.3f, 0.9f, 0.8f}}));
    labels.push_back(torch::tensor({1, 3}, torch::kInt64));
  }
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

// mini profile: 300 input (the paper's maps 38/19/10/5/3/1), width 0.125, batch 8.
BENCHMARK(BM_TrainStep)
    ->ArgsProduct({{0, 1, 2, 3, 4}, {300}, {125}, {8}})
    ->ArgsProduct({{1, 4}, {300}, {250}, {8}})
    ->Unit(benchmark::kMillisecond)
    ->MinTime(2.0)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
