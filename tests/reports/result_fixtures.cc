#include "tests/reports/result_fixtures.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

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
  // As the trainer names it (scratchdet/engine/experiment.cc RunDirectory): table_A.
  return root + "/" + run.profile + "/table_" + run.table + "/" + run.experiment + "/seed" +
         std::to_string(run.seed) + "/result.json";
}

std::string WriteText(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text;
  return path;
}

std::string WriteResult(const std::string& root, const FixtureRun& run, const json& result) {
  return WriteText(ResultPath(root, run), result.dump(1));
}

std::string FreshDir(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const fs::path dir = fs::path(tmp ? tmp : "/tmp") / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

}  // namespace scratchdet::report::testing
