// Box-module hot paths at SSD300 scale (8732 priors, 21 VOC classes), 2 intra-op threads:
// target matching and the multibox loss run every training step, post-processing every
// evaluated image. Figures: benchmarks/README.md.
#include <benchmark/benchmark.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <vector>

#include "scratchdet/box/matcher.h"
#include "scratchdet/box/multibox_loss.h"
#include "scratchdet/box/postprocess.h"
#include "scratchdet/box/priors.h"

namespace scratchdet::box {
namespace {

constexpr int64_t kBatch = 32;
constexpr int64_t kBoxesPerImage = 10;
constexpr int64_t kClasses = 21;

const PriorConfig& Config() {
  static const PriorConfig config = BuiltinPriorConfig("ssd300_voc");
  return config;
}

const torch::Tensor& Priors() {
  static const torch::Tensor priors =
      GeneratePriors(Config(), {{38, 38}, {19, 19}, {10, 10}, {5, 5}, {3, 3}, {1, 1}}, 300, 300);
  return priors;
}

// Random ground truth: kBoxesPerImage boxes per image, sides 0.05-0.55 of the image.
struct GroundTruth {
  std::vector<torch::Tensor> boxes, labels;
};

GroundTruth RandomGroundTruth() {
  GroundTruth gt;
  for (int64_t i = 0; i < kBatch; ++i) {
    const torch::Tensor lo = torch::rand({kBoxesPerImage, 2}) * 0.45;
    gt.boxes.push_back(torch::cat({lo, lo + torch::rand({kBoxesPerImage, 2}) * 0.5 + 0.05}, 1));
    gt.labels.push_back(torch::randint(1, kClasses, {kBoxesPerImage}, torch::kLong));
  }
  return gt;
}

void BM_MatchPriors(benchmark::State& state) {
  torch::set_num_threads(2);
  torch::manual_seed(0);
  const GroundTruth gt = RandomGroundTruth();
  for (auto _ : state) {
    MatchTargets t = MatchPriors(gt.boxes, gt.labels, Priors(), Config().variances);
    benchmark::DoNotOptimize(t.labels.data_ptr());
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_MatchPriors)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_MultiBoxLossForward(benchmark::State& state) {
  torch::set_num_threads(2);
  torch::manual_seed(0);
  const GroundTruth gt = RandomGroundTruth();
  const MatchTargets targets = MatchPriors(gt.boxes, gt.labels, Priors(), Config().variances);
  const int64_t num_priors = Priors().size(0);
  const torch::Tensor loc = torch::randn({kBatch, num_priors, 4});
  const torch::Tensor conf = torch::randn({kBatch, num_priors, kClasses});
  torch::NoGradGuard no_grad;
  for (auto _ : state) {
    MultiBoxLossOutput out = MultiBoxLoss(loc, conf, targets);
    benchmark::DoNotOptimize(out.total.data_ptr());
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_MultiBoxLossForward)->Unit(benchmark::kMillisecond)->UseRealTime();

// state.range(0) == 0: random logits, as from an untrained model (every class scores about
// 1/21 > 0.01 on every prior, so each class fills top_k = 400 before NMS: the worst case);
// 1: a confident model (background logit +10: a few dozen priors pass the threshold).
void BM_PostProcess(benchmark::State& state) {
  torch::set_num_threads(2);
  torch::manual_seed(0);
  const int64_t num_priors = Priors().size(0);
  const torch::Tensor loc = torch::randn({1, num_priors, 4}) * 0.5;
  torch::Tensor conf = torch::randn({1, num_priors, kClasses});
  if (state.range(0) == 1) conf.select(2, 0).add_(10.0);
  torch::NoGradGuard no_grad;
  int64_t detections = 0;
  for (auto _ : state) {
    std::vector<Detections> out = PostProcess(loc, conf, Priors(), Config().variances);
    detections = out[0].scores.numel();
    benchmark::DoNotOptimize(detections);
  }
  state.counters["detections"] = static_cast<double>(detections);
  state.SetLabel(state.range(0) == 0 ? "random logits" : "confident");
}
BENCHMARK(BM_PostProcess)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace scratchdet::box
