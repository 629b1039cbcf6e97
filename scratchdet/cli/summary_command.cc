// `scratchdet summary`: parameters, MACs, detection sources and priors of a model config.
#include <fmt/format.h>
#include <torch/utils.h>

#include <memory>
#include <optional>
#include <string>

#include "scratchdet/cli/command.h"
#include "scratchdet/core/error.h"
#include "scratchdet/model/config.h"
#include "scratchdet/model/model_summary.h"
#include "scratchdet/model/ssd.h"

namespace scratchdet::cli {
namespace {

struct SummaryFlags {
  std::string model;
  int input_size = 300;
  std::optional<int64_t> num_classes;
  bool json = false;
};

int Run(const SummaryFlags& flags) {
  if (flags.input_size <= 0) Fail("summary: --input-size {} must be > 0", flags.input_size);
  nlohmann::json config_json = model::ReadModelConfigArgument(flags.model);
  if (flags.num_classes) {
    // --num-classes overrides the config's value; a preset name becomes {"preset": name}.
    if (config_json.is_string()) config_json = {{"preset", config_json}};
    if (config_json.is_object()) config_json["num_classes"] = *flags.num_classes;
  }
  const model::ModelConfig config = model::ParseModelConfig(config_json);
  model::SsdDetector detector = model::BuildDetector(config, /*seed=*/0);
  const model::ModelSummary summary =
      model::SummarizeModel(*detector, flags.input_size, flags.input_size);
  if (flags.json)
    fmt::print("{}\n", model::ToJson(summary).dump(2));
  else
    fmt::print("{}", model::FormatSummary(summary));
  return 0;
}

const CommandRegistrar kRegistrar(
    "summary", "parameters, multiply-accumulates, detection sources and priors of a model",
    [](CLI::App& app) {
      auto flags = std::make_shared<SummaryFlags>();
      app.add_option("--model", flags->model,
                     "preset name, path to a JSON model config, or inline JSON")
          ->required();
      app.add_option("--input-size", flags->input_size, "square input size in pixels")
          ->capture_default_str();
      app.add_option("--num-classes", flags->num_classes,
                     "classes including background (default: the config's, 21)");
      app.add_flag("--json", flags->json, "print JSON instead of a table");
      return [flags] { return Run(*flags); };
    });

}  // namespace
}  // namespace scratchdet::cli
