// `scratchdet train`: train a detector on the shapes benchmark or on your own VOC/COCO data.
//
//   bazel run //:scratchdet -- train --profile mini --out runs/mine   (one line, with:)
//       --set data.format=voc --set data.root=/data/mydata --set 'data.classes=["cat","dog"]'
//   bazel run //:scratchdet -- train --config my_run.json --out runs/mine
#include <fmt/format.h>

#include <memory>

#include "scratchdet/cli/command.h"
#include "scratchdet/core/atomic_file.h"
#include "scratchdet/core/error.h"
#include "scratchdet/core/json_text.h"
#include "scratchdet/engine/config_flags.h"
#include "scratchdet/engine/launch.h"
#include "scratchdet/engine/run.h"
#include "scratchdet/engine/train_config.h"

namespace scratchdet::cli {
namespace {

// The config flags shared with the experiment binaries, and a run directory and one seed.
struct TrainArgs : engine::ConfigFlags {
  std::string out;
  int64_t seed = 0;
};

int RunTrain(TrainArgs args) {
  using nlohmann::json;
  if (args.print_config) {
    fmt::print("{}", engine::ConfigText(
                         engine::ParseTrainConfig(engine::ResolveConfigJson(args, {}, args.seed))));
    return 0;
  }
  if (const auto code = engine::LaunchLocalWorkers(args)) return *code;
  const auto group = engine::JoinGroupFromEnvironment(args);  // sets the local rank
  const engine::TrainConfig parsed =
      engine::ParseTrainConfig(engine::ResolveConfigJson(args, {}, args.seed));
  engine::RunContext context;
  context.experiment = {{"name", "train"}, {"table", ""}, {"row", ""}, {"paper_value", "n/r"}};
  context.profile = args.profile;
  context.run_dir = args.out;
  context.fresh = args.fresh;
  context.group = group.get();
  const json result = engine::TrainAndEvaluate(parsed, context);
  if (group && group->rank() != 0)
    return engine::ExitCodeForState(result["status"]["state"].get<std::string>());
  fmt::print("status: {}\n", result["status"]["state"].get<std::string>());
  if (result["metrics"].contains("mAP") && result["metrics"]["mAP"].is_number())
    fmt::print("mAP: {:.2f}%\n", 100 * result["metrics"]["mAP"].get<double>());
  fmt::print("result: {}/result.json\n", args.out);
  return engine::ExitCodeForState(result["status"]["state"].get<std::string>());
}

const CommandRegistrar kRegistrar(
    "train", "Train a detector (shapes benchmark, or your own VOC/COCO data) and evaluate it",
    [](CLI::App& app) {
      auto args = std::make_shared<TrainArgs>();
      engine::AddConfigFlags(app, *args);
      app.add_option("--out", args->out, "run directory (result.json, model.pt, ...)")
          ->required();
      app.add_option("--seed", args->seed, "seed")->capture_default_str();
      return [args] { return RunTrain(*args); };
    });

}  // namespace
}  // namespace scratchdet::cli
