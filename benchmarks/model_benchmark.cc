// Forward and forward+backward time of the detectors at 300x300 with 2 threads (the machine's
// cores; toolchain.md). Reported per batch; divide by the batch size for per-image figures.
//   bazel build //benchmarks:model_benchmark && bazel-bin/benchmarks/model_benchmark
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <string>

#include "scratchdet/model/ssd.h"

namespace {

void Forward(benchmark::State& state, const std::string& preset) {
  torch::set_num_threads(2);
  const int64_t batch = state.range(0);
  scratchdet::model::SsdDetector model = scratchdet::model::BuildDetector(preset);
  model->eval();
  const torch::Tensor images = torch::randn({batch, 3, 300, 300});
  torch::NoGradGuard no_grad;
  model->forward(images);  // warm-up (oneDNN primitive creation)
  for (auto _ : state) benchmark::DoNotOptimize(model->forward(images).conf);
  state.counters["s_per_image"] =
      benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate |
                                                         benchmark::Counter::kInvert);
}

void ForwardBackward(benchmark::State& state, const std::string& preset) {
  torch::set_num_threads(2);
  const int64_t batch = state.range(0);
  scratchdet::model::SsdDetector model = scratchdet::model::BuildDetector(preset);
  model->train();
  const torch::Tensor images = torch::randn({batch, 3, 300, 300});
  auto step = [&] {
    model->zero_grad();
    const auto out = model->forward(images);
    (out.loc.sum() + out.conf.sum()).backward();
  };
  step();  // warm-up
  for (auto _ : state) step();
  state.counters["s_per_image"] =
      benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate |
                                                         benchmark::Counter::kInvert);
}

BENCHMARK_CAPTURE(Forward, ssd300_vgg16_bn, std::string("ssd300_vgg16_bn"))
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(5);
BENCHMARK_CAPTURE(Forward, scratchdet300, std::string("scratchdet300"))
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(5);
BENCHMARK_CAPTURE(ForwardBackward, ssd300_vgg16_bn, std::string("ssd300_vgg16_bn"))
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(10);
BENCHMARK_CAPTURE(ForwardBackward, scratchdet300, std::string("scratchdet300"))
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(10);

}  // namespace
