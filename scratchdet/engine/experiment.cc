#include "scratchdet/engine/experiment.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "scratchdet/core/atomic_file.h"
#include "scratchdet/core/error.h"
#include "scratchdet/core/json_keys.h"
#include "scratchdet/core/json_text.h"
#include "scratchdet/core/provenance.h"
#include "scratchdet/core/results_layout.h"
#include "scratchdet/core/strings.h"
#include "scratchdet/engine/data_parallel.h"
#include "scratchdet/engine/report_table.h"
#include "scratchdet/engine/run.h"
#include "scratchdet/engine/run_directory.h"
#include "scratchdet/engine/train_config.h"

namespace scratchdet::engine {

using nlohmann::json;

Experiment ParseExperiment(const std::string& text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    Fail("experiment config is not valid JSON: {}", e.what());
  }
  Experiment e;
  e.raw = j;
  const std::string label = j.value("name", std::string("<unnamed>"));
  CheckKnownKeys(j, {"name", "table", "row", "paper_value", "description", "config", "profiles"},
                 "experiment '" + label + "'");
  for (const auto& [key, value] : j.items()) {
    if (key == "name") e.name = value.get<std::string>();
    else if (key == "table") e.table = value.get<std::string>();
    else if (key == "row") e.row = value.get<std::string>();
    else if (key == "paper_value") e.paper_value = value;
    else if (key == "description") e.description = value.get<std::string>();
    else if (key == "config") e.config = value;
    else if (key == "profiles") e.profiles = value;
  }
  if (e.name.empty()) Fail("experiment config: 'name' is required");
  if (e.table.empty()) Fail("experiment '{}': 'table' is required", e.name);
  if (!(e.paper_value.is_number() || e.paper_value == "n/r"))
    Fail("experiment '{}': paper_value must be a number or \"n/r\"", e.name);
  if (!e.profiles.is_object()) Fail("experiment '{}': profiles must be an object", e.name);
  for (const auto& [profile, patch] : e.profiles.items()) ProfileDefaults(profile);
  return e;
}

namespace {

std::string DefaultResultsRoot() { return SourceDirectory() + "/results"; }

}  // namespace

json ResolveConfig(const Experiment& e, const ExperimentRequest& r, int64_t seed) {
  std::vector<ConfigLayer> layers = {{"experiment '" + e.name + "' config", e.config}};
  if (e.profiles.contains(r.profile))
    layers.push_back(
        {"experiment '" + e.name + "' profiles." + r.profile, e.profiles.at(r.profile)});
  return ResolveConfigJson(r, layers, seed);
}

std::string RunDirectory(const Experiment& e, const ExperimentRequest& r, int64_t seed) {
  const std::string root = r.results_root.empty() ? DefaultResultsRoot() : r.results_root;
  // A run whose --set overrides change the comparable config is a variant of the
  // experiment: it gets a directory of its own, named by its config hash, so that two
  // configs never share one (and the report's tables hold the experiments' own configs).
  std::string variant_hash;
  if (!r.overrides.empty() || !r.config_file.empty()) {
    ExperimentRequest plain = r;
    plain.overrides.clear();
    plain.config_file.clear();
    const json wanted = ComparableConfig(ToJson(ParseTrainConfig(ResolveConfig(e, r, seed))));
    if (wanted != ComparableConfig(ToJson(ParseTrainConfig(ResolveConfig(e, plain, seed)))))
      variant_hash = ConfigHash(wanted);
  }
  return RunDirectoryPath(root, r.profile, e.table, e.name, seed, variant_hash);
}

namespace {

json ExperimentMeta(const Experiment& e) {
  return {{"name", e.name},
          {"table", e.table},
          {"row", e.row},
          {"paper_value", e.paper_value},
          {"description", e.description}};
}

// A finished result (ok or diverged) of the same config is reused unless --fresh.
std::optional<json> CachedResult(const std::string& run_dir, const TrainConfig& config) {
  const std::string path = run_dir + "/result.json";
  if (!std::filesystem::exists(path)) return std::nullopt;
  try {
    json result = json::parse(ReadFile(path));
    const std::string state = result.at("status").at("state");
    if ((state == "ok" || state == "diverged") &&
        ComparableConfig(result.at("config")) == ComparableConfig(ToJson(config)))
      return result;
  } catch (const std::exception&) {
    // Unreadable or partial: run again.
  }
  return std::nullopt;
}

// A finished run of another experiment that CachedResult would reuse for `config`: the same
// comparable config and seed under the same results root and profile (e.g.
// table_d/root_resnet18 is table_c/root_resnet18: the same model and recipe appear in two
// paper tables).
struct SameConfigRun {
  std::string dir;
  json result;
};
std::optional<SameConfigRun> FindSameConfigRun(const std::string& root,
                                               const std::string& profile,
                                               const std::string& run_dir,
                                               const TrainConfig& config) {
  namespace fs = std::filesystem;
  const fs::path profile_dir = fs::path(root) / profile;
  std::error_code error;
  if (!fs::is_directory(profile_dir, error)) return std::nullopt;
  std::vector<fs::path> candidates;
  for (const auto& entry : fs::recursive_directory_iterator(profile_dir, error))
    if (entry.path().filename() == "result.json") candidates.push_back(entry.path().parent_path());
  std::sort(candidates.begin(), candidates.end());  // the same choice on every machine
  for (const fs::path& dir : candidates) {
    if (fs::equivalent(dir, run_dir, error) || !fs::exists(dir / "model.pt")) continue;
    if (auto result = CachedResult(dir.string(), config))
      return SameConfigRun{dir.string(), *result};
  }
  return std::nullopt;
}

// Takes over `source`'s finished run as this experiment's: result.json with this
// experiment's name and a `reused_from` record, curves.csv and model.pt copied. The numbers
// are the ones this run would compute (same comparable config, same seed).
json ReuseRun(const Experiment& e, const SameConfigRun& source, const std::string& run_dir,
              const std::string& root) {
  namespace fs = std::filesystem;
  json result = source.result;
  const json original = result.at("experiment");
  result["experiment"] = ExperimentMeta(e);
  result["paper_value"] = e.paper_value;
  result["reused_from"] = {
      {"run", fs::relative(source.dir, root).string()},
      {"experiment", original.value("table", "") + "/" + original.value("name", "")},
      {"why", "same comparable config and seed: the run this experiment would make"}};
  fs::create_directories(run_dir);
  const RunDirectoryLock lock(run_dir);
  for (const char* file : {"curves.csv", "model.pt"}) {
    const fs::path from = fs::path(source.dir) / file;
    if (fs::exists(from))
      WriteFileAtomic(run_dir + "/" + file, ReadFile(from.string()));
  }
  WriteFileAtomic(run_dir + "/result.json", JsonText(result, 2) + "\n");
  return result;
}

// A finished result this run can stand on instead of training: its own directory's result
// of the same config, or a same-config run of another experiment (copied here).
std::optional<json> EarlierResult(const Experiment& e, const ExperimentRequest& r, int64_t seed,
                                  const std::string& run_dir, const TrainConfig& config) {
  if (auto cached = CachedResult(run_dir, config)) {
    fmt::print("== {} seed {}: result exists for this config (use --fresh to rerun)\n", e.name,
               seed);
    return *cached;
  }
  const std::string root = r.results_root.empty() ? DefaultResultsRoot() : r.results_root;
  if (!std::filesystem::exists(run_dir + "/checkpoint.pt")) {
    if (auto source = FindSameConfigRun(root, r.profile, run_dir, config)) {
      fmt::print("== {} seed {}: the same config and seed ran as {}; reusing it (--fresh to "
                 "train anyway)\n",
                 e.name, seed, source->dir);
      return ReuseRun(e, *source, run_dir, root);
    }
  }
  return std::nullopt;
}

// `run_dir` is RunDirectory(e, r, seed), computed once by the caller (it resolves the config).
json RunOne(const Experiment& e, const ExperimentRequest& r, int64_t seed,
            const std::string& run_dir, bool quiet) {
  const json resolved = ResolveConfig(e, r, seed);
  const TrainConfig config = ParseTrainConfig(resolved);
  if (r.group) {
    // Rank 0 alone looks at the results; the ranks follow its decision to reuse or train.
    std::optional<json> earlier;
    if (r.group->rank() == 0 && !r.fresh) earlier = EarlierResult(e, r, seed, run_dir, config);
    const std::string text = r.group->BroadcastBytes(earlier ? JsonText(*earlier) : "");
    if (!text.empty()) return json::parse(text);
  } else if (!r.fresh) {
    if (auto earlier = EarlierResult(e, r, seed, run_dir, config)) return *earlier;
  }
  RunContext context;
  context.experiment = ExperimentMeta(e);
  context.profile = r.profile;
  context.run_dir = run_dir;
  context.cache_root = r.cache_root;
  context.fresh = r.fresh;
  context.quiet = quiet;
  context.group = r.group;
  return TrainAndEvaluate(config, context);
}

}  // namespace

int RunExperimentCommand(const Experiment& e, const ExperimentRequest& request) {
  ExperimentRequest r = request;
  if (r.seeds.empty()) r.seeds = {0};
  if (r.print_config) {
    fmt::print("{}", ConfigText(ParseTrainConfig(ResolveConfig(e, r, r.seeds.front()))));
    return 0;
  }
  // A failed run throws (main exits 1); otherwise a diverged seed makes the exit code 3, and
  // an interrupted seed stops the loop (Ctrl-C means stop, not "skip to the next seed").
  bool diverged = false;
  const bool speak = !r.group || r.group->rank() == 0;  // data parallel: rank 0 reports
  for (int64_t seed : r.seeds) {
    if (speak)
      fmt::print("== experiment {} (table {}, {}) profile {} seed {}\n", e.name, e.table, e.row,
                 r.profile, seed);
    const std::string run_dir = RunDirectory(e, r, seed);
    const json result = RunOne(e, r, seed, run_dir, false);
    const std::string run_status = result.at("status").at("state");
    if (speak) {
      if (run_status == "ok") fmt::print("{}", FormatMetricsTable(result.at("metrics")));
      fmt::print("== {}: status {}", e.name, run_status);
      if (result.at("metrics").contains("mAP") && result["metrics"]["mAP"].is_number())
        fmt::print(", mAP {:.2f}% (paper: {})", 100 * result["metrics"]["mAP"].get<double>(),
                   e.paper_value.is_number() ? fmt::format("{}", e.paper_value.get<double>())
                                             : std::string("n/r"));
      fmt::print("\n   result: {}/result.json\n", run_dir);
    }
    if (run_status == "interrupted") return kExitInterrupted;
    diverged = diverged || run_status == "diverged";
  }
  return diverged ? kExitDiverged : kExitOk;
}

int RunRegression(const Experiment& e, const std::string& baseline_path, ExperimentRequest r) {
  json baseline;
  try {
    baseline = json::parse(ReadFile(baseline_path));
  } catch (const json::parse_error& err) {
    Fail("{}: not valid JSON: {}", baseline_path, err.what());
  }
  for (const char* key : {"profile", "seed", "mean", "tolerance"})
    if (!baseline.contains(key)) Fail("{}: missing key '{}'", baseline_path, key);
  r.profile = baseline.at("profile").get<std::string>();
  const int64_t seed = baseline.at("seed").get<int64_t>();
  if (baseline.contains("threads")) r.threads = baseline.at("threads").get<int>();
  // Bazel's sandbox: everything (data cache and results) under the test's own temp dir.
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string root = tmp ? tmp : std::filesystem::temp_directory_path().string();
  r.results_root = root + "/results";
  r.cache_root = root + "/cache";
  r.fresh = true;
  const json result = RunOne(e, r, seed, RunDirectory(e, r, seed), true);
  const double mean = baseline.at("mean").get<double>();
  const double tolerance = baseline.at("tolerance").get<double>();
  const std::string state = result.at("status").at("state");
  const json& map = result.at("metrics").value("mAP", json());
  if (state != "ok" || !map.is_number()) {
    fmt::print(stderr, "REGRESSION {}: run status {} ({}); baseline mAP {:.4f}\n", e.name, state,
               result.at("status").value("message", ""), mean);
    return 1;
  }
  const double value = map.get<double>();
  const bool pass = value >= mean - tolerance;
  fmt::print("{} {}: mAP {:.4f} vs baseline {:.4f} - tolerance {:.4f} (= {:.4f}) "
             "[profile {}, seed {}]\n",
             pass ? "OK" : "REGRESSION", e.name, value, mean, tolerance, mean - tolerance,
             r.profile, seed);
  return pass ? 0 : 1;
}

}  // namespace scratchdet::engine
