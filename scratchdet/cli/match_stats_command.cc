// `scratchdet match-stats`: how well a model's priors cover a dataset's objects under SSD
// matching, overall, by the level of each object's best prior and by object size, before or
// after the training augmentation (docs/mini.md, "Prior geometry").
#include <fmt/format.h>

#include <memory>
#include <string>

#include "scratchdet/box/match_stats.h"
#include "scratchdet/box/priors.h"
#include "scratchdet/cli/command.h"
#include "scratchdet/core/atomic_file.h"
#include "scratchdet/core/error.h"
#include "scratchdet/data/loader.h"
#include "scratchdet/data/transforms/ssd_pipeline.h"
#include "scratchdet/data/voc_dataset.h"
#include "scratchdet/model/config.h"
#include "scratchdet/model/ssd.h"

namespace scratchdet::cli {
namespace {

struct Options {
  std::string root, split = "trainval", model, json_out;
  int input_size = 300;
  int64_t images = 0;  // 0 = every image of the split once
  int64_t seed = 0;
  double iou = 0.5;
  bool augment = false;
};

int Run(const Options& o) {
  if (o.input_size <= 0) Fail("match-stats: --input-size {} must be > 0", o.input_size);
  data::VocDatasetOptions dataset_options;
  dataset_options.root = o.root;
  dataset_options.spec = o.split;
  auto dataset = std::make_shared<data::VocDataset>(dataset_options);

  nlohmann::json model_json = model::ReadModelConfigArgument(o.model);
  if (model_json.is_string()) model_json = {{"preset", model_json}};
  model_json["num_classes"] = static_cast<int64_t>(dataset->class_names().size()) + 1;
  const model::ModelConfig config = model::ParseModelConfig(model_json);
  model::SsdDetector detector = model::BuildDetector(config, /*seed=*/0);
  const auto maps = detector->FeatureMapSizes(o.input_size, o.input_size);
  box::MatchStatsOptions stats_options;
  stats_options.iou_threshold = o.iou;
  box::MatchStats stats(detector->Priors(o.input_size, o.input_size),
                        box::PriorLevelEnds(detector->prior_config(), maps), stats_options);

  data::DataLoaderOptions loader_options;
  loader_options.batch_size = 32;
  loader_options.input_size = o.input_size;
  loader_options.workers = 0;
  loader_options.seed = static_cast<uint64_t>(o.seed);
  loader_options.train = true;  // shuffled epochs; the first `images` samples are distinct
  if (!o.augment) loader_options.transform = data::SsdTestTransform(o.input_size);
  data::DataLoader loader(dataset, loader_options);
  const int64_t wanted = o.images > 0 ? o.images : static_cast<int64_t>(dataset->size());
  int64_t seen = 0;
  while (seen < wanted) {
    const data::Batch batch = *loader.Next();
    for (int64_t b = 0; b < batch.size() && seen < wanted; ++b, ++seen)
      stats.Add(batch.boxes[b], batch.difficult[b]);
  }

  std::string maps_text;
  for (const auto& m : maps)
    maps_text += fmt::format("{}{}x{}", maps_text.empty() ? "" : ",", m.height, m.width);
  fmt::print("{} ({}), input {} px, maps {}, prior config {}, {}\n", o.root, o.split,
             o.input_size, maps_text, config.prior_config,
             o.augment ? "after the SSD training augmentation" : "before augmentation");
  fmt::print("{}", stats.Format());
  if (!o.json_out.empty()) {
    nlohmann::json out = stats.ToJson();
    out["root"] = o.root;
    out["split"] = o.split;
    out["input_size"] = o.input_size;
    out["augment"] = o.augment;
    out["model"] = model::ToJson(config);
    out["maps"] = maps_text;
    WriteFileAtomic(o.json_out, out.dump(2) + "\n");
  }
  return 0;
}

const CommandRegistrar kRegistrar(
    "match-stats",
    "share of objects with a prior of IoU >= 0.5 and positives per object, by level and size",
    [](CLI::App& app) {
      auto o = std::make_shared<Options>();
      app.add_option("--root", o->root, "VOC-layout dataset root (e.g. a make-shapes folder)")
          ->required();
      app.add_option("--split", o->split, "image set")->capture_default_str();
      app.add_option("--model", o->model,
                     "preset name, path to a JSON model config, or inline JSON")
          ->required();
      app.add_option("--input-size", o->input_size, "square network input side")
          ->capture_default_str();
      app.add_flag("--augment", o->augment,
                   "match after the SSD training augmentation (expand, crop, flip)");
      app.add_option("--images", o->images, "images to sample (0: each image once)")
          ->capture_default_str();
      app.add_option("--seed", o->seed, "loader seed (augmentation draws)")
          ->capture_default_str();
      app.add_option("--iou", o->iou, "positive IoU threshold")->capture_default_str();
      app.add_option("--json", o->json_out, "also write the statistics as JSON");
      return [o] { return Run(*o); };
    });

}  // namespace
}  // namespace scratchdet::cli
