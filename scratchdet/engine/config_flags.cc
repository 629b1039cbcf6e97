#include "scratchdet/engine/config_flags.h"

#include <algorithm>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "scratchdet/core/atomic_file.h"
#include "scratchdet/core/error.h"
#include "scratchdet/core/json_text.h"

namespace scratchdet::engine {

using nlohmann::json;

void AddConfigFlags(CLI::App& app, ConfigFlags& flags) {
  app.add_option("--profile", flags.profile,
                 fmt::format("{} (experiments/profiles/)", fmt::join(ProfileNames(), " | ")))
      ->capture_default_str();
  app.add_option("--config", flags.config_file,
                 "JSON file merged over the profile and the experiment (same keys as a "
                 "result's config)");
  app.add_option("--set", flags.overrides,
                 "override one value: key.path=JSON, e.g. --set solver.iterations=100");
  app.add_option("--data", flags.data_root, "dataset root (sets data.root)");
  app.add_option("--device", flags.device, "cpu | cuda | cuda:N");
  app.add_option("--threads", flags.threads, "intra-op threads (default: all cores)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--precision", flags.precision,
                 "training forward: fp32 (default, the paper's) | bf16 | fp16 (CUDA, loss-scaled)")
      ->check(CLI::IsMember({"fp32", "bf16", "fp16"}));
  app.add_flag("--cudnn-benchmark", flags.cudnn_benchmark,
               "CUDA: let cuDNN time and pick convolution algorithms (sets run.cudnn_benchmark)");
  app.add_flag("--deterministic", flags.deterministic,
               "CUDA: deterministic algorithms only (sets run.deterministic)");
  app.add_flag("--fresh", flags.fresh, "ignore an existing checkpoint/result and start over");
  app.add_flag("--print-config", flags.print_config, "print the resolved config and exit");
  app.add_option("--nproc", flags.nproc,
                 "data parallel: start this many processes on this machine (README, \"Several "
                 "processes and GPUs\")")
      ->check(CLI::PositiveNumber);
  app.add_option("--dist-timeout", flags.dist_timeout_s,
                 "data parallel: seconds a rank waits for the others before failing")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

json ApplyCommandLine(json config, const ConfigFlags& flags) {
  if (!flags.config_file.empty()) {
    json patch;
    try {
      patch = json::parse(ReadFile(flags.config_file));
    } catch (const json::parse_error& e) {
      Fail("{}: not valid JSON: {}", flags.config_file, e.what());
    }
    config = MergeConfig(config, patch, flags.config_file);
  }
  for (const std::string& assignment : flags.overrides)
    config = MergeConfig(config, OverridePatch(assignment), "--set");
  if (!flags.data_root.empty()) config["data"]["root"] = flags.data_root;
  if (!flags.device.empty()) config["device"] = flags.device;
  if (flags.threads > 0) config["run"]["threads"] = flags.threads;
  if (!flags.precision.empty()) config["precision"] = flags.precision;
  if (flags.cudnn_benchmark) config["run"]["cudnn_benchmark"] = true;
  if (flags.deterministic) config["run"]["deterministic"] = true;
  if (flags.world_size > 1) config["solver"]["world_size"] = flags.world_size;
  if (flags.local_rank >= 0) {
    if (config.value("device", "") == "cuda")
      config["device"] = fmt::format("cuda:{}", flags.local_rank);
    if (config.contains("run") && config["run"].value("threads", 0) == 0)
      config["run"]["threads"] = std::max(
          1, static_cast<int>(std::thread::hardware_concurrency()) / flags.local_world_size);
  }
  return config;
}

json ResolveConfigJson(const ConfigFlags& flags, const std::vector<ConfigLayer>& layers,
                       int64_t seed) {
  json config = ProfileDefaults(flags.profile);
  for (const ConfigLayer& layer : layers) config = MergeConfig(config, layer.patch, layer.where);
  config = ApplyCommandLine(std::move(config), flags);
  config["seed"] = seed;
  return config;
}

std::string ConfigText(const TrainConfig& config) { return JsonText(ToJson(config), 2) + "\n"; }

}  // namespace scratchdet::engine
