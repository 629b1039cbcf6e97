// `scratchdet coco-eval`: COCO bbox AP of a results file against an instances file.
#include <fmt/format.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "scratchdet/cli/command.h"
#include "scratchdet/core/atomic_file.h"
#include "scratchdet/eval/coco_eval.h"
#include "scratchdet/eval/coco_json.h"

namespace scratchdet::cli {
namespace {

struct CocoEvalFlags {
  std::string annotations;
  std::string detections;
  std::string json;
};

int Run(const CocoEvalFlags& flags) {
  const eval::CocoInstances instances = eval::ReadCocoInstances(flags.annotations);
  const std::vector<eval::CocoDetection> detections =
      eval::ReadCocoResults(flags.detections, instances);
  const eval::CocoEvalResult result = eval::EvaluateCoco(instances.annotations, detections);
  fmt::print("{} images, {} categories, {} ground truths, {} detections\n",
             instances.images.size(), instances.categories.size(), instances.annotations.size(),
             detections.size());
  fmt::print("{}", eval::FormatCocoSummary(result));
  if (!flags.json.empty()) {
    nlohmann::json j = eval::ToJson(result);
    // Readers of the file see category names, not only ids.
    nlohmann::json names = nlohmann::json::object();
    for (const auto& c : instances.categories) names[std::to_string(c.id)] = c.name;
    j["category_names"] = names;
    WriteFileAtomic(flags.json, j.dump(2) + "\n");
    fmt::print("wrote {}\n", flags.json);
  }
  return 0;
}

const CommandRegistrar kRegistrar(
    "coco-eval", "COCO bbox AP/AR (pycocotools semantics) of a results JSON", [](CLI::App& app) {
      auto flags = std::make_shared<CocoEvalFlags>();
      app.add_option("--annotations", flags->annotations, "COCO instances JSON")->required();
      app.add_option("--detections", flags->detections,
                     "results JSON: [{image_id, category_id, bbox: [x, y, w, h], score}]")
          ->required();
      app.add_option("--json", flags->json, "write the 12 stats as JSON here (atomically)");
      return [flags] { return Run(*flags); };
    });

}  // namespace
}  // namespace scratchdet::cli
