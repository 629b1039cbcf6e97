#include "scratchdet/engine/data_setup.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "scratchdet/core/atomic_file.h"
#include "scratchdet/core/error.h"
#include "scratchdet/data/coco_dataset.h"
#include "scratchdet/data/shapes.h"
#include "scratchdet/data/transforms/ssd_pipeline.h"
#include "scratchdet/data/voc_dataset.h"

namespace scratchdet::engine {

namespace fs = std::filesystem;
using nlohmann::json;

std::string CacheRoot(const std::string& cache_root) {
  if (!cache_root.empty()) return cache_root;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME")) return std::string(xdg) + "/scratchdet";
  if (const char* home = std::getenv("HOME")) return std::string(home) + "/.cache/scratchdet";
  return (fs::temp_directory_path() / "scratchdet-cache").string();
}

std::string EnsureShapesDataset(const ShapesDataOptions& options, const std::string& cache_root) {
  // The folder name is the generator's whole input, so equal options share one copy.
  // kShapesGeneratorVersion changes whenever the generator's output changes, so a cached copy
  // from an older generator is never reused.
  const std::string dir = fmt::format(
      "{}/shapes/v{}_train{}_test{}_size{}_seed{}_objects{}-{}_diameter{}-{}_outline{}_clutter{}-{}",
      CacheRoot(cache_root), data::kShapesGeneratorVersion, options.train_images,
      options.test_images, options.image_size, options.seed, options.min_objects,
      options.max_objects, options.min_size, options.max_size, options.outline_probability,
      options.min_clutter, options.max_clutter);
  if (fs::exists(dir + "/COMPLETE")) return dir;
  const std::string temp = fmt::format("{}.partial.{}", dir, ::getpid());
  fs::remove_all(temp);
  data::ShapesOptions generate;
  generate.out_dir = temp;
  generate.train_images = options.train_images;
  generate.test_images = options.test_images;
  generate.image_size = options.image_size;
  generate.seed = static_cast<uint64_t>(options.seed);
  generate.layout.min_objects = options.min_objects;
  generate.layout.max_objects = options.max_objects;
  generate.layout.min_diameter = options.min_size;
  generate.layout.max_diameter = options.max_size;
  generate.layout.outline_probability = options.outline_probability;
  generate.layout.min_clutter = options.min_clutter;
  generate.layout.max_clutter = options.max_clutter;
  fmt::print(stderr, "generating the shapes benchmark ({} train / {} test, {}px) into {}\n",
             options.train_images, options.test_images, options.image_size, dir);
  data::GenerateShapes(generate);
  WriteFileAtomic(temp + "/COMPLETE", "");
  std::error_code ec;
  fs::rename(temp, dir, ec);
  if (ec) {
    // Another process finished the same dataset first: theirs is identical, keep it.
    fs::remove_all(temp);
    if (!fs::exists(dir + "/COMPLETE")) Fail("{}: cannot move generated dataset into place", dir);
  }
  return dir;
}

namespace {

std::string Under(const std::string& root, const std::string& path) {
  if (path.empty() || path.front() == '/' || root.empty()) return path;
  return root + "/" + path;
}

std::shared_ptr<data::DetectionDataset> OpenDataset(const TrainConfig& config,
                                                    const std::string& root, bool train) {
  const DataOptions& d = config.data;
  const data::OnBadSample policy = data::ParseOnBadSample(d.on_bad_sample);
  if (d.format == "coco") {
    data::CocoDatasetOptions o;
    o.on_bad_sample = policy;
    o.allow_empty = !train;  // evaluation images without objects still yield false positives
    if (config.data.format == "coco" && d.train_images.empty() && d.test_images.empty()) {
      // The shapes benchmark's own COCO export.
      o.annotation_file = fmt::format("{}/annotations/instances_{}.json", root,
                                      train ? d.train : d.test);
      o.image_dir = root + "/JPEGImages";
    } else {
      o.annotation_file = Under(root, train ? d.train : d.test);
      o.image_dir = Under(root, train ? d.train_images : d.test_images);
    }
    return std::make_shared<data::CocoDataset>(o);
  }
  data::VocDatasetOptions o;
  o.on_bad_sample = policy;
  o.allow_empty = !train;
  o.root = root;
  o.spec = train ? d.train : d.test;
  o.classes = d.classes;
  return std::make_shared<data::VocDataset>(o);
}

}  // namespace

json DataSetup::BadSampleCounts() const {
  json counts = json::object();
  for (const auto* dataset : {train.get(), test.get()}) {
    if (dataset == nullptr) continue;
    for (const auto& [reason, n] : dataset->bad_samples().Counts())
      counts[reason] = counts.value(reason, 0) + n;
  }
  return counts;
}

json DataSetup::BadSampleExamples() const {
  json examples = json::array();
  for (const auto* dataset : {train.get(), test.get()})
    if (dataset != nullptr)
      for (const std::string& message : dataset->bad_samples().Examples())
        examples.push_back(message);
  return examples;
}

void DataSetup::RestoreTrainLoader(const json& state) {
  data::LoaderState start;
  start.epoch = state.at("epoch").get<int64_t>();
  start.position = state.at("position").get<int64_t>();
  train_loader.reset();  // stop its workers before the replacement starts its own
  train_loader = std::make_unique<data::DataLoader>(train, train_options, start);
}

json DataSetup::TrainLoaderState() const {
  const data::LoaderState state = train_loader->state();
  return {{"epoch", state.epoch}, {"position", state.position}};
}

DataSetup SetUpData(const TrainConfig& config, const std::string& cache_root, bool with_train,
                    const data::LoaderShard& shard) {
  DataSetup setup;
  std::string root = config.data.root;
  if (config.data.format == "shapes" || (root.empty() && config.data.format == "coco")) {
    if (root.empty()) root = EnsureShapesDataset(config.data.shapes, cache_root);
  }
  if (root.empty())
    Fail("config: data.root is required for data.format '{}' (pass --data DIR)",
         config.data.format);
  if (!fs::is_directory(root)) Fail("{}: dataset root is not a directory", root);
  setup.test = OpenDataset(config, root, /*train=*/false);
  setup.class_names = setup.test->class_names();
  if (with_train) {
    setup.train = OpenDataset(config, root, /*train=*/true);
    if (setup.train->class_names() != setup.class_names)
      Fail("{}: train and test splits have different class lists", root);
    data::DataLoaderOptions& options = setup.train_options;
    options.batch_size = config.solver.batch_size;
    options.input_size = config.input_size;
    options.workers = config.run.workers;
    options.seed = static_cast<uint64_t>(config.seed);
    options.keep_difficult = config.data.keep_difficult;
    options.train = true;
    options.shard = shard;
    if (!config.data.augment) options.transform = data::SsdTestTransform(config.input_size);
    setup.train_loader = std::make_unique<data::DataLoader>(setup.train, options);
  }
  setup.description = {{"format", config.data.format},
                       {"root", root},
                       {"train", with_train ? json(config.data.train) : json()},
                       {"test", config.data.test},
                       {"classes", setup.class_names},
                       {"train_images", setup.train ? json(setup.train->size()) : json()},
                       {"test_images", setup.test->size()}};
  return setup;
}

}  // namespace scratchdet::engine
