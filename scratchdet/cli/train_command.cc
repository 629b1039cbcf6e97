// `scratchdet train`: train a detector on the shapes benchmark or on your own VOC/COCO data.
//
//   bazel run //:scratchdet -- train --profile mini --out runs/mine \
//       --set data.format=voc --set data.root=/data/mydata --set 'data.classes=["cat","dog"]'
//   bazel run //:scratchdet -- train --config my_run.json --out runs/mine
#include <fmt/format.h>

#include <memory>

#include "scratchdet/cli/command.h"
#include "scratchdet/core/atomic_file.h"
#include "scratchdet/core/error.h"
#include "scratchdet/core/json_text.h"
#include "scratchdet/engine/run.h"
#include "scratchdet/engine/train_config.h"

namespace scratchdet::cli {
namespace {

struct TrainArgs {
  std::string profile = "mini";
  std::string config_path;
  std::vector<std::string> overrides;
  std::string out;
  std::string data;
  std::string device;
  int64_t seed = 0;
  int threads = 0;
  bool fresh = false;
  bool print_config = false;
};

int RunTrain(const TrainArgs& args) {
  using nlohmann::json;
  json config = engine::ProfileDefaults(args.profile);
  if (!args.config_path.empty()) {
    json patch;
    try {
      patch = json::parse(ReadFile(args.config_path));
    } catch (const json::parse_error& e) {
      Fail("{}: not valid JSON: {}", args.config_path, e.what());
    }
    config = engine::MergeConfig(config, patch, args.config_path);
  }
  for (const std::string& assignment : args.overrides)
    config = engine::MergeConfig(config, engine::OverridePatch(assignment), "--set");
  config["seed"] = args.seed;
  if (!args.data.empty()) config["data"]["root"] = args.data;
  if (!args.device.empty()) config["device"] = args.device;
  if (args.threads > 0) config["threads"] = args.threads;
  const engine::TrainConfig parsed = engine::ParseTrainConfig(config);
  if (args.print_config) {
    fmt::print("{}\n", JsonText(engine::ToJson(parsed), 2));
    return 0;
  }
  engine::RunContext context;
  context.experiment = {{"name", "train"}, {"table", ""}, {"row", ""}, {"paper_value", "n/r"}};
  context.profile = args.profile;
  context.run_dir = args.out;
  context.fresh = args.fresh;
  const json result = engine::TrainAndEvaluate(parsed, context);
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
      app.add_option("--profile", args->profile, "defaults: paper | mini | smoke")
          ->capture_default_str();
      app.add_option("--config", args->config_path,
                     "JSON file merged over the profile (same keys as a result's config)");
      app.add_option("--set", args->overrides, "override one value: key.path=JSON");
      app.add_option("--out", args->out, "run directory (result.json, model.pt, ...)")
          ->required();
      app.add_option("--data", args->data, "dataset root (sets data.root)");
      app.add_option("--device", args->device, "cpu | cuda | cuda:N");
      app.add_option("--seed", args->seed, "seed")->capture_default_str();
      app.add_option("--threads", args->threads, "intra-op threads (default: all cores)")
          ->check(CLI::NonNegativeNumber);
      app.add_flag("--fresh", args->fresh, "ignore an existing checkpoint in --out");
      app.add_flag("--print-config", args->print_config, "print the resolved config and exit");
      return [args] { return RunTrain(*args); };
    });

}  // namespace
}  // namespace scratchdet::cli
