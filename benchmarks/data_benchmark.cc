// Data pipeline throughput: images/s of the DataLoader at 300x300 with the full SSD
// augmentation (1 and 2 workers), the test-time path, and shapes generation. The dataset is a
// shapes benchmark generated once into a temporary folder. Figures: benchmarks/README.md.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <memory>

#include "scratchdet/data/loader.h"
#include "scratchdet/data/shapes.h"
#include "scratchdet/data/transforms/ssd_pipeline.h"
#include "scratchdet/data/voc_dataset.h"

namespace scratchdet::data {
namespace {

namespace fs = std::filesystem;

// Removes the generated folder at exit.
struct TempDir {
  TempDir() {
    char pattern[] = "/tmp/scratchdet_data_benchmark_XXXXXX";
    path = mkdtemp(pattern);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string path;
};

std::shared_ptr<const DetectionDataset> Dataset() {
  static const TempDir temp;
  static const std::shared_ptr<const DetectionDataset> dataset = [] {
    const std::string& dir = temp.path;
    ShapesOptions options;
    options.out_dir = dir;
    options.train_images = 256;
    options.test_images = 16;
    options.image_size = 300;
    GenerateShapes(options);
    VocDatasetOptions voc;
    voc.root = dir;
    voc.spec = "trainval";
    auto loaded = std::make_shared<VocDataset>(voc);
    return loaded;
  }();
  return dataset;
}

void BM_TrainLoader(benchmark::State& state) {
  DataLoaderOptions options;
  options.batch_size = 32;
  options.input_size = 300;
  options.workers = static_cast<int>(state.range(0));
  options.train = true;
  DataLoader loader(Dataset(), options);
  for (auto _ : state) benchmark::DoNotOptimize(loader.Next());
  state.SetItemsProcessed(state.iterations() * options.batch_size);
}
BENCHMARK(BM_TrainLoader)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_TestLoader(benchmark::State& state) {
  DataLoaderOptions options;
  options.batch_size = 32;
  options.input_size = 300;
  options.workers = static_cast<int>(state.range(0));
  options.train = false;
  int64_t images = 0;
  for (auto _ : state) {
    DataLoader loader(Dataset(), options);
    while (auto batch = loader.Next()) images += batch->size();
  }
  state.SetItemsProcessed(images);
}
BENCHMARK(BM_TestLoader)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// One image through decode + SSD augmentation on the calling thread (no loader overhead).
void BM_DecodeAndAugmentOne(benchmark::State& state) {
  const auto dataset = Dataset();
  const auto transform = SsdTrainTransform(300);
  int64_t i = 0;
  for (auto _ : state) {
    const Sample sample = dataset->Load(i % dataset->size());
    AnnotatedImage input{sample.image, sample.boxes, sample.labels, sample.difficult};
    Rng rng(i++);
    benchmark::DoNotOptimize(transform->Apply(std::move(input), rng));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeAndAugmentOne)->Unit(benchmark::kMillisecond);

void BM_RenderShapesImage(benchmark::State& state) {
  int index = 0;
  for (auto _ : state)
    benchmark::DoNotOptimize(
        RenderShapesImage(7, ShapesSplit::kTrainval, index++, static_cast<int>(state.range(0))));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RenderShapesImage)->Arg(160)->Arg(300)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace scratchdet::data
