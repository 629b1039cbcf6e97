// One config resolution for every entry point: the experiment binaries and `scratchdet train`
// share these flags and this merge order, and print the same --print-config.
//
//   profile defaults (experiments/profiles/<profile>.json)
//   -> the caller's layers (an experiment's `config`, then its `profiles.<profile>`)
//   -> --config FILE -> --set key.path=VALUE (in order) -> --seed, --data, --device, --threads
#pragma once

#include <nlohmann/json.hpp>

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "scratchdet/engine/train_config.h"

namespace scratchdet::engine {

// The command-line sources of a config, the same for every entry point.
struct ConfigFlags {
  std::string profile = "mini";
  std::string config_file;             // --config: a JSON patch merged after the layers
  std::vector<std::string> overrides;  // --set "a.b.c=<json>"
  std::string data_root;               // --data: sets data.root
  std::string device;                  // empty: the config's
  int threads = 0;                     // 0: the config's (0 there = all cores)
  std::string precision;               // empty: the config's (precision.h)
  bool cudnn_benchmark = false;        // true: sets run.cudnn_benchmark
  bool deterministic = false;          // true: sets run.deterministic
  bool fresh = false;                  // ignore an existing checkpoint
  bool print_config = false;           // print the resolved config and exit
  // Data parallel (launch.h): --nproc starts this many local worker processes; a collective
  // that waits longer than --dist-timeout seconds for another rank fails the run.
  int nproc = 1;
  double dist_timeout_s = 300;
  // Set in a data-parallel worker by JoinGroupFromEnvironment: its rank on this machine and
  // the number of processes here. Device "cuda" becomes "cuda:<local_rank>", and threads 0
  // (all cores) become cores / local_world_size.
  int local_rank = -1;
  int local_world_size = 1;
  int world_size = 1;  // sets solver.world_size
};

// Adds --profile, --config, --set, --data, --device, --threads, --precision,
// --cudnn-benchmark, --deterministic, --fresh, --print-config, --nproc and --dist-timeout.
void AddConfigFlags(CLI::App& app, ConfigFlags& flags);

// A labelled patch merged over the profile defaults (labels name it in errors).
struct ConfigLayer {
  std::string where;
  nlohmann::json patch;
};

// The resolved config JSON for one seed, in the order above. Errors name the layer, the file
// or the --set that holds an unknown key.
nlohmann::json ResolveConfigJson(const ConfigFlags& flags, const std::vector<ConfigLayer>& layers,
                                 int64_t seed);

// --config FILE, --set, --data, --device, --threads, --precision, --cudnn-benchmark and
// --deterministic applied to a given config (`scratchdet eval` starts from a trained run's
// config instead of a profile).
nlohmann::json ApplyCommandLine(nlohmann::json config, const ConfigFlags& flags);

// What --print-config prints: the parsed, validated config (threads resolved to this machine).
std::string ConfigText(const TrainConfig& config);

}  // namespace scratchdet::engine
