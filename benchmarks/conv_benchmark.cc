// One 3x3 convolution's training work -- forward, input gradient, weight gradient -- through
// torch's direct convolution and through the Winograd path (scratchdet/model/winograd_conv.h),
// at the shapes of VGG16-SSD300's 3x3 convolutions, batch 4, channels-last as runs train.
// Google Benchmark; figures in benchmarks/README.md ("Winograd training").
//
//   bazel run //benchmarks:conv_benchmark
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "scratchdet/model/mac_counter.h"
#include "scratchdet/model/ssd.h"
#include "scratchdet/model/winograd_conv.h"

namespace {

using scratchdet::model::CountedConv;

// range: channels in, channels out, map side, batch; `winograd` picks the path.
void ConvTrainingStep(benchmark::State& state, bool winograd) {
  torch::set_num_threads(2);
  const int64_t c = state.range(0), k = state.range(1), side = state.range(2), n = state.range(3);
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(c, k, 3).padding(1));
  scratchdet::model::ToChannelsLast(*conv);
  const torch::Tensor x = torch::randn({n, c, side, side})
                              .contiguous(torch::MemoryFormat::ChannelsLast)
                              .requires_grad_(true);
  const torch::Tensor grad = torch::randn({n, k, side, side}).contiguous(torch::MemoryFormat::ChannelsLast);
  scratchdet::model::SetWinogradTrainingEnabled(winograd);
  const int64_t calls = scratchdet::model::WinogradCalls();
  for (auto _ : state) {
    torch::Tensor y = CountedConv(conv, x, /*relu=*/true);
    y.backward(grad);
    benchmark::DoNotOptimize(conv->weight.grad().data_ptr());
  }
  scratchdet::model::SetWinogradTrainingEnabled(true);
  state.counters["winograd"] =
      static_cast<double>(scratchdet::model::WinogradCalls() - calls) / state.iterations();
  state.counters["GMAC/s"] = benchmark::Counter(
      3.0 * n * c * k * 9 * side * side * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}

void Shapes(benchmark::internal::Benchmark* b) {
  // VGG16-SSD300's 3x3 stride-1 convolutions with >= 32 input channels, by stage.
  b->Args({64, 64, 300, 4})->Args({64, 128, 150, 4})->Args({128, 128, 150, 4})
      ->Args({128, 256, 75, 4})->Args({256, 256, 75, 4})->Args({256, 512, 38, 4})
      ->Args({512, 512, 38, 4})->Args({512, 512, 19, 4});
  // Small maps and widths, as the mini profile's (batch 8-16).
  for (int64_t channels : {32, 64, 128})
    for (int64_t side : {6, 12, 24, 48}) b->Args({channels, channels, side, 16});
  b->Unit(benchmark::kMillisecond)->MinTime(1.0);
}

BENCHMARK_CAPTURE(ConvTrainingStep, direct, false)->Apply(Shapes);
BENCHMARK_CAPTURE(ConvTrainingStep, winograd, true)->Apply(Shapes);

}  // namespace
