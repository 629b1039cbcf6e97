// A paper experiment as a value: its JSON (experiments/<table>/<name>.json) names the paper
// table/row/reference number and the few config fields that make it what it is; profiles
// supply everything else (train_config.h). See README "Adding an experiment".
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "scratchdet/engine/config_flags.h"

namespace scratchdet::engine {

class DataParallelGroup;

struct Experiment {
  std::string name;         // e.g. "bn_head_lr0.01"
  std::string table;        // "A".."E"
  std::string row;          // human-readable row/cell label
  nlohmann::json paper_value;  // number (VOC07 mAP %, or COCO AP) or "n/r"
  std::string description;
  nlohmann::json config = nlohmann::json::object();    // patch over every profile
  nlohmann::json profiles = nlohmann::json::object();  // per-profile patches
  nlohmann::json raw;
};

// Parses an experiment file's text; errors name the experiment and the key.
Experiment ParseExperiment(const std::string& json_text);

// The config flags shared with `scratchdet train` (config_flags.h), and what is an
// experiment's own: several seeds, a results root.
struct ExperimentRequest : ConfigFlags {
  std::vector<int64_t> seeds;     // empty: {0}
  std::string results_root;       // empty: <workspace>/results
  std::string cache_root;         // where generated shapes datasets live (empty: default)
  DataParallelGroup* group = nullptr;  // data parallel (launch.h); rank 0 prints and writes
};

// The resolved training config (JSON) for one seed (config_flags.h): profile defaults, then
// the experiment's `config`, then its `profiles[profile]`, then the command line.
nlohmann::json ResolveConfig(const Experiment& experiment, const ExperimentRequest& request,
                             int64_t seed);

// Directory of one run: <results_root>/<profile>/table_<t>/<name>/seed<k> (t lower case).
std::string RunDirectory(const Experiment& experiment, const ExperimentRequest& request,
                         int64_t seed);

// Runs every requested seed and returns the exit code (run.h ExitCode): kExitDiverged if a
// seed diverged, else kExitOk; an interrupted seed stops the loop with kExitInterrupted. A
// failed run throws scratchdet::Error (the binary prints it and exits kExitFailed).
int RunExperimentCommand(const Experiment& experiment, const ExperimentRequest& request);

// Regression mode: trains with the baseline's profile and seed, and fails (exit 1) when
// mAP < baseline mean - tolerance, printing baseline, new value and tolerance.
int RunRegression(const Experiment& experiment, const std::string& baseline_path,
                  ExperimentRequest request);

}  // namespace scratchdet::engine
