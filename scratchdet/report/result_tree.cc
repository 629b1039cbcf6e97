#include "scratchdet/report/result_tree.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <set>
#include <tuple>

#include "scratchdet/core/error.h"
#include "scratchdet/core/results_layout.h"
#include "scratchdet/core/strings.h"

namespace scratchdet::report {
namespace {

namespace fs = std::filesystem;

}  // namespace

ResultTree ScanResults(const std::string& root, const std::string& profile) {
  std::error_code error;
  if (!fs::is_directory(root, error)) Fail("{}: results folder does not exist", root);
  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(
           root, fs::directory_options::skip_permission_denied, error);
       it != fs::recursive_directory_iterator(); it.increment(error)) {
    if (error) break;
    if (it->path().filename() == "result.json" && !it->is_directory()) files.push_back(it->path());
  }
  // Files in the layout first, so that a stray copy elsewhere is the one called a duplicate.
  std::sort(files.begin(), files.end(), [&](const fs::path& a, const fs::path& b) {
    const bool la = ParseRunLocation(fs::relative(a, root)).has_value();
    const bool lb = ParseRunLocation(fs::relative(b, root)).has_value();
    return la != lb ? la : a < b;
  });

  ResultTree tree;
  std::set<std::tuple<std::string, std::string, int64_t>> seen;
  for (const fs::path& file : files) {
    const std::string path = file.string();
    const std::optional<RunLocation> layout = ParseRunLocation(fs::relative(file, root));
    if (layout && layout->profile != profile) continue;
    // <experiment>@<config hash>: a run with --set overrides (engine RunDirectory). The
    // tables hold the experiments' own configs, so variants are not read.
    if (layout && layout->variant) continue;
    RunResult run;
    try {
      run = LoadRunResult(path);
    } catch (const Error& e) {
      // A broken file outside the layout might belong to any profile: report it anyway.
      std::string reason = e.what();
      if (reason.rfind(path + ": ", 0) == 0) reason = reason.substr(path.size() + 2);
      tree.skipped.push_back({path, reason});
      continue;
    }
    if (!layout && run.profile != profile) continue;
    std::string mismatch;
    if (layout) {
      if (run.profile != layout->profile)
        mismatch = "profile '" + run.profile + "' but the path says '" + layout->profile + "'";
      else if (AsciiUpper(run.table) != layout->table)
        mismatch = "experiment.table '" + run.table + "' but the path says table_" + layout->table;
      else if (run.experiment != layout->experiment)
        mismatch = "experiment.name '" + run.experiment + "' but the path says '" +
                   layout->experiment + "'";
      else if (run.seed != layout->seed)
        mismatch = "seed " + std::to_string(run.seed) + " but the path says seed" +
                   std::to_string(layout->seed);
    }
    if (!mismatch.empty()) {
      tree.skipped.push_back({path, "fields disagree with the folder layout: " + mismatch});
      continue;
    }
    run.table = AsciiUpper(run.table);
    if (!seen.insert({run.table, run.experiment, run.seed}).second) {
      tree.skipped.push_back({path, "a second result for table " + run.table + " " +
                                        run.experiment + " seed " + std::to_string(run.seed)});
      continue;
    }
    tree.runs.push_back(std::move(run));
  }
  std::sort(tree.runs.begin(), tree.runs.end(), [](const RunResult& a, const RunResult& b) {
    return std::tie(a.table, a.experiment, a.seed) < std::tie(b.table, b.experiment, b.seed);
  });
  return tree;
}

}  // namespace scratchdet::report
