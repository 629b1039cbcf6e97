// Datasets and loaders of a run, built from its DataOptions: the shapes benchmark (generated
// once into a cache, keyed by its parameters), a VOC-layout folder, or COCO.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "scratchdet/data/dataset.h"
#include "scratchdet/data/loader.h"
#include "scratchdet/engine/train_config.h"

namespace scratchdet::engine {

struct DataSetup {
  std::shared_ptr<data::DetectionDataset> train;
  std::shared_ptr<data::DetectionDataset> test;
  data::DataLoaderOptions train_options;
  std::unique_ptr<data::DataLoader> train_loader;  // endless, SSD augmentation
  std::vector<std::string> class_names;
  nlohmann::json description;  // what the result JSON records about the data

  int num_classes() const { return static_cast<int>(class_names.size()) + 1; }
  // Restarts the training loader at a checkpoint's position (loader.h: exact resume).
  void RestoreTrainLoader(const nlohmann::json& state);
  nlohmann::json TrainLoaderState() const;
  nlohmann::json BadSampleCounts() const;
  // The messages of the first skipped samples (each names its file), train then test.
  nlohmann::json BadSampleExamples() const;
};

// Root of generated data (shapes); `cache_root` empty = $XDG_CACHE_HOME or ~/.cache.
std::string CacheRoot(const std::string& cache_root);

// Generates the shapes dataset for `options` under the cache unless a complete copy exists;
// returns its folder. Generation goes to a temporary folder renamed into place, so an
// interrupted generation is never mistaken for a complete one.
std::string EnsureShapesDataset(const ShapesDataOptions& options, const std::string& cache_root);

// with_train = false skips the training set and loader (evaluation only). `shard`: this
// process's share of the training stream in data-parallel training (loader.h).
DataSetup SetUpData(const TrainConfig& config, const std::string& cache_root,
                    bool with_train = true, const data::LoaderShard& shard = {});

}  // namespace scratchdet::engine
