// `scratchdet eval --run DIR`: evaluate a trained run's model.pt on its test set again
// (optionally another split/dataset via --set), printing the per-class table.
#include <fmt/format.h>

#include <memory>

#include "scratchdet/cli/command.h"
#include "scratchdet/core/atomic_file.h"
#include "scratchdet/core/json_text.h"
#include "scratchdet/engine/config_flags.h"
#include "scratchdet/engine/data_setup.h"
#include "scratchdet/engine/evaluation.h"
#include "scratchdet/engine/inference.h"
#include "scratchdet/engine/report_table.h"

namespace scratchdet::cli {
namespace {

struct EvalArgs {
  std::string run_dir;
  engine::ConfigFlags flags;  // --set only: the run's config is the base
  std::string device = "cpu";
  std::string json_out;
};

int RunEval(const EvalArgs& args) {
  const torch::Device device(args.device);
  engine::LoadedRun run = engine::LoadRun(args.run_dir, device);
  const engine::TrainConfig parsed =
      engine::ParseTrainConfig(engine::ApplyCommandLine(engine::ToJson(run.config), args.flags));
  const engine::DataSetup data = engine::SetUpData(parsed, "", /*with_train=*/false);
  const nlohmann::json metrics = engine::EvaluateDetector(*run.detector, data, parsed, device);
  fmt::print("{}", engine::FormatMetricsTable(metrics));
  if (!args.json_out.empty()) WriteFileAtomic(args.json_out, JsonText(metrics, 2) + "\n");
  return 0;
}

const CommandRegistrar kRegistrar(
    "eval", "Evaluate a trained run (DIR/result.json + DIR/model.pt) on its test set",
    [](CLI::App& app) {
      auto args = std::make_shared<EvalArgs>();
      app.add_option("--run", args->run_dir, "run directory written by train/experiments")
          ->required();
      app.add_option("--set", args->flags.overrides, "override a config value, e.g. data.test=val");
      app.add_option("--device", args->device, "cpu | cuda | cuda:N")->capture_default_str();
      app.add_option("--json", args->json_out, "write the metrics JSON here");
      return [args] { return RunEval(*args); };
    });

}  // namespace
}  // namespace scratchdet::cli
