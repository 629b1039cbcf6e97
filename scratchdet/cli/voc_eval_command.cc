// `scratchdet voc-eval`: VOC mAP of devkit detection files against VOC annotations.
#include <fmt/format.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "scratchdet/cli/command.h"
#include "scratchdet/core/atomic_file.h"
#include "scratchdet/data/voc_annotation.h"
#include "scratchdet/eval/voc_devkit.h"
#include "scratchdet/eval/voc_result_table.h"

namespace scratchdet::cli {
namespace {

struct VocEvalFlags {
  std::string annotations;
  std::string imageset;
  std::string detections;
  std::string classes;
  std::string metric = "voc07";
  double iou = 0.5;
  std::string threshold_mode = "devkit";
  bool no_plus_one = false;
  std::string json;
};

int Run(const VocEvalFlags& flags) {
  eval::VocDevkitInputs inputs;
  inputs.annotations_dir = flags.annotations;
  inputs.image_set = flags.imageset;
  inputs.detections_pattern = flags.detections;
  inputs.class_names =
      flags.classes.empty() ? data::VocClassNames() : eval::ParseClassList(flags.classes);
  eval::VocEvalOptions options;
  options.metric = eval::ParseVocApMetric(flags.metric);
  options.iou_threshold = flags.iou;
  options.threshold_mode = eval::ParseIouThresholdMode(flags.threshold_mode);
  options.plus_one = !flags.no_plus_one;

  const eval::VocEvalResult result = eval::EvaluateVocDevkit(inputs, options);
  fmt::print("{}", eval::FormatVocResultTable(result));
  if (!flags.json.empty()) {
    WriteFileAtomic(flags.json, eval::ToJson(result).dump(2) + "\n");
    fmt::print("wrote {}\n", flags.json);
  }
  return 0;
}

const CommandRegistrar kRegistrar(
    "voc-eval", "VOC mAP of devkit detection files (one per class) against VOC annotations",
    [](CLI::App& app) {
      auto flags = std::make_shared<VocEvalFlags>();
      app.add_option("--annotations", flags->annotations, "directory of <image_id>.xml")
          ->required();
      app.add_option("--imageset", flags->imageset, "file of image ids, one per line")->required();
      app.add_option("--detections", flags->detections,
                     "detection file pattern containing {cls}, one file per class "
                     "(<image_id> <score> <xmin> <ymin> <xmax> <ymax>); a missing file means "
                     "no detections")
          ->required();
      app.add_option("--classes", flags->classes,
                     "comma-separated class names or a file with one per line (default: the 20 "
                     "VOC classes)");
      app.add_option("--metric", flags->metric, "voc07 (11-point) or area (VOC2010+)")
          ->check(CLI::IsMember({"voc07", "area"}));
      app.add_option("--iou", flags->iou, "IoU threshold")->check(CLI::Range(0.0, 1.0));
      app.add_option("--threshold-mode", flags->threshold_mode,
                     "devkit (IoU >= t, MATLAB devkit) or strict (IoU > t, Python port)")
          ->check(CLI::IsMember({"devkit", "strict"}));
      app.add_flag("--no-plus-one", flags->no_plus_one,
                   "continuous IoU (widths x2 - x1) instead of the devkit's x2 - x1 + 1");
      app.add_option("--json", flags->json, "write the result as JSON here (atomically)");
      return [flags] { return Run(*flags); };
    });

}  // namespace
}  // namespace scratchdet::cli
