#include "tests/reports/result_fixtures.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "scratchdet/core/results_layout.h"

namespace scratchdet::report::testing {

namespace fs = std::filesystem;
using nlohmann::json;

json MakeResult(const FixtureRun& run) {
  const double map = run.map.value_or(0.0);
  json metrics = {
      {"mAP", run.state == "ok" ? json(map) : json(nullptr)},
      {"per_class_ap",
       {{"circle", run.state == "ok" ? json(map + 0.05) : json(nullptr)},
        {"square", run.state == "ok" ? json(map - 0.05) : json(nullptr)}}},
      {"pr_curves",
       {{"circle", {{"precision", {1.0, 0.9, 0.6}}, {"recall", {0.1, 0.5, 0.8}}}},
        {"square", {{"precision", {1.0, 0.7, 0.4}}, {"recall", {0.2, 0.4, 0.7}}}}}},
      {"iterations", 40},
      {"curves",
       {{"iteration", {0, 10, 20, 30}},
        {"loss", {20.0, 12.0, 9.0, 8.0 + map}},
        {"grad_norm", {5.0, 3.0, 2.5, 2.4}},
        {"grad_delta", {0.0, 2.0, 0.5, 0.1}},
        {"lr", {0.01, 0.01, 0.01, 0.01}}}},
  };
  if (run.state == "diverged") metrics["diverged_at_iteration"] = 37;
  return {
      {"schema_version", 1},
      {"experiment",
       {{"name", run.experiment}, {"table", run.table}, {"row", run.experiment + " row"}}},
      {"profile", run.profile},
      {"seed", run.seed},
      {"config", json::object()},
      {"status", {{"state", run.state}, {"message", run.message}}},
      {"metrics", metrics},
      {"provenance", {{"git_commit", "0000000"}, {"device", "cpu"}}},
  };
}

std::string ResultPath(const std::string& root, const FixtureRun& run) {
  // As the trainer names it (core/results_layout.h).
  return RunDirectoryPath(root, run.profile, run.table, run.experiment, run.seed) +
         "/result.json";
}


std::string WriteResult(const std::string& root, const FixtureRun& run, const json& result) {
  return WriteText(ResultPath(root, run), result.dump(1));
}


}  // namespace scratchdet::report::testing
