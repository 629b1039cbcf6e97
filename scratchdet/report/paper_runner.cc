#include "scratchdet/report/paper_runner.h"

#include <fmt/format.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "scratchdet/core/error.h"
#include "scratchdet/core/results_layout.h"
#include "scratchdet/core/strings.h"
#include "scratchdet/engine/exit_code.h"
#include "scratchdet/report/result_file.h"

namespace scratchdet::report {
namespace {

namespace fs = std::filesystem;

}  // namespace

std::vector<ExperimentTarget> ListExperimentTargets(const std::string& experiments_dir,
                                                    std::vector<std::string>* problems) {
  std::vector<ExperimentTarget> targets;
  std::error_code error;
  if (!fs::is_directory(experiments_dir, error))
    Fail("{}: experiments folder does not exist", experiments_dir);
  for (const auto& folder : fs::directory_iterator(experiments_dir)) {
    const std::string folder_name = folder.path().filename().string();
    if (!folder.is_directory() || folder_name.rfind("table_", 0) != 0) continue;
    for (const auto& file : fs::directory_iterator(folder.path())) {
      if (file.path().extension() != ".json") continue;
      const std::string path = file.path().string();
      try {
        std::ifstream in(path);
        std::ostringstream text;
        text << in.rdbuf();
        const nlohmann::json j = nlohmann::json::parse(text.str());
        if (!j.is_object() || !j.contains("name") || !j["name"].is_string() ||
            !j.contains("table") || !j["table"].is_string())
          Fail("{}: expected an object with string fields 'name' and 'table'", path);
        ExperimentTarget t{j["table"], j["name"], ""};
        if (t.name != file.path().stem().string() || "table_" + AsciiLower(t.table) != folder_name)
          Fail("{}: name '{}' / table '{}' do not match the file and folder name", path, t.name,
               t.table);
        t.label = fmt::format("//experiments/{}:{}", folder_name, t.name);
        targets.push_back(std::move(t));
      } catch (const nlohmann::json::exception& e) {
        problems->push_back(fmt::format("{}: not valid JSON ({})", path, e.what()));
      } catch (const Error& e) {
        problems->push_back(e.what());
      }
    }
  }
  std::sort(targets.begin(), targets.end(),
            [](const ExperimentTarget& a, const ExperimentTarget& b) { return a.label < b.label; });
  return targets;
}

bool IsRunDone(const std::string& results_root, const std::string& profile,
               const ExperimentTarget& target, int64_t seed) {
  const std::string path =
      RunDirectoryPath(results_root, profile, target.table, target.name, seed) + "/result.json";
  if (!fs::exists(path)) return false;
  try {
    const RunResult run = LoadRunResult(path);
    return run.profile == profile && run.seed == seed && run.experiment == target.name &&
           run.state != RunState::kFailed;
  } catch (const Error&) {
  }
  return false;
}

std::vector<PlannedRun> PlanMissingRuns(const std::vector<ExperimentTarget>& targets,
                                        const std::string& results_root, const std::string& profile,
                                        const std::vector<int64_t>& seeds) {
  std::vector<PlannedRun> plan;
  for (const ExperimentTarget& target : targets) {
    PlannedRun run{target, {}};
    for (int64_t seed : seeds)
      if (!IsRunDone(results_root, profile, target, seed)) run.seeds.push_back(seed);
    if (!run.seeds.empty()) plan.push_back(std::move(run));
  }
  return plan;
}

std::string ExperimentCommand(const RunnerOptions& options, const PlannedRun& run) {
  std::string command =
      fmt::format("cd {} && {} {} -- --profile {} --seed {} --out {}", ShellQuote(options.workspace),
                  options.launcher, run.target.label, ShellQuote(options.profile),
                  fmt::join(run.seeds, ","), ShellQuote(options.results_root));
  for (const std::string& arg : options.extra_args) command += " " + ShellQuote(arg);
  return command;
}

RunnerOutcome RunMissingExperiments(const RunnerOptions& options, std::ostream& log) {
  RunnerOutcome outcome;
  std::vector<ExperimentTarget> targets =
      ListExperimentTargets(options.experiments_dir, &outcome.problems);
  if (!options.tables.empty())
    targets.erase(std::remove_if(targets.begin(), targets.end(),
                                 [&](const ExperimentTarget& t) {
                                   return std::find(options.tables.begin(), options.tables.end(),
                                                    t.table) == options.tables.end();
                                 }),
                  targets.end());
  for (const std::string& p : outcome.problems) log << "skipped experiment file " << p << "\n";
  const std::vector<PlannedRun> plan =
      PlanMissingRuns(targets, options.results_root, options.profile, options.seeds);
  outcome.planned = static_cast<int>(plan.size());
  log << fmt::format("{} experiments, {} with missing seeds (profile {}, seeds {}):\n",
                     targets.size(), plan.size(), options.profile, fmt::join(options.seeds, ","));
  for (const PlannedRun& run : plan)
    log << fmt::format("  {} seeds {}\n", run.target.label, fmt::join(run.seeds, ","));
  log.flush();
  for (const PlannedRun& run : plan) {
    const std::string command = ExperimentCommand(options, run);
    log << "$ " << command << "\n";
    log.flush();
    if (options.dry_run) continue;
    const int status = std::system(command.c_str());
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::vector<int64_t> still_missing;
    for (int64_t seed : run.seeds)
      if (!IsRunDone(options.results_root, options.profile, run.target, seed))
        still_missing.push_back(seed);
    // A diverged run is a result, not a failure.
    if ((code == engine::kExitOk || code == engine::kExitDiverged) && still_missing.empty()) {
      ++outcome.succeeded;
    } else {
      outcome.failed.push_back(
          code != 0 ? fmt::format("{}: exit status {}", run.target.label, code)
                    : fmt::format("{}: exited 0 but seeds {} have no ok/diverged result",
                                  run.target.label, fmt::join(still_missing, ",")));
      log << "failed: " << outcome.failed.back() << "\n";
    }
  }
  return outcome;
}

}  // namespace scratchdet::report
