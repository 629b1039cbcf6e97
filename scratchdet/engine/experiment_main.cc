// main() of every experiment binary (experiments/experiment.bzl). The experiment's JSON is
// linked in as kExperimentConfig, so the binary is hermetic:
//
//   bazel run //experiments/table_a:bn_head_lr0.01 -- --profile mini [--seed N] [--out DIR]
//       [--config FILE] [--set k=v] [--data DIR] [--device cpu|cuda] [--threads N] [--fresh]
//       [--nproc N] [--dist-timeout S]   (data parallel; or launched by torchrun)
//   (a run resumes from its run directory's checkpoint unless --fresh)
//   ... --regression BASELINE.json   (the regression test mode, see README)
#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include "scratchdet/core/allocator.h"
#include "scratchdet/core/error.h"
#include "scratchdet/engine/config_flags.h"
#include "scratchdet/engine/experiment.h"
#include "scratchdet/engine/launch.h"

extern const char kExperimentConfig[];

int main(int argc, char** argv) {
  scratchdet::core::TuneAllocatorForTraining();
  scratchdet::engine::ExperimentRequest request;
  std::string regression_baseline;
  CLI::App app{"Runs one ScratchDet paper experiment and writes its result JSON"};
  scratchdet::engine::AddConfigFlags(app, request);
  app.add_option("--seed", request.seeds, "seed(s); several run one after another")
      ->delimiter(',');
  app.add_option("--out", request.results_root,
                 "results root (default: <workspace>/results)");
  app.add_option("--regression", regression_baseline,
                 "compare mAP with this baseline file and fail on a drop beyond tolerance");
  CLI11_PARSE(app, argc, argv);
  try {
    const auto experiment = scratchdet::engine::ParseExperiment(kExperimentConfig);
    if (!regression_baseline.empty())
      return scratchdet::engine::RunRegression(experiment, regression_baseline, request);
    if (request.print_config)
      return scratchdet::engine::RunExperimentCommand(experiment, request);
    if (const auto code = scratchdet::engine::LaunchLocalWorkers(request)) return *code;
    const auto group = scratchdet::engine::JoinGroupFromEnvironment(request);
    request.group = group.get();
    return scratchdet::engine::RunExperimentCommand(experiment, request);
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
}
