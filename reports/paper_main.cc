// bazel run //reports:paper -- --profile mini [--seeds 0,1,2] [--results DIR] [--out DIR]
//     [--tables A,C] [--dry-run] [--launcher CMD] [--pr-run EXPERIMENT] [-- EXTRA ARGS]
// Runs every paper experiment whose result is missing (bazel run //experiments/table_<t>:<name>),
// then writes the report as //reports:tables does. See reports/README.md.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "scratchdet/report/paper_runner.h"
#include "scratchdet/report/plots.h"
#include "scratchdet/report/report.h"
#include "scratchdet/report/workspace_paths.h"

int main(int argc, char** argv) {
  namespace report = scratchdet::report;
  report::RunnerOptions runner;
  report::ReportOptions options;
  std::string experiments_dir;
  CLI::App app{"Runs the missing paper experiments, then regenerates the paper's tables"};
  app.add_option("--profile", runner.profile, "paper | mini | smoke")
      ->check(CLI::IsMember({"mini", "paper", "smoke"}))
      ->capture_default_str();
  app.add_option("--seeds", runner.seeds, "seeds to have for every experiment, e.g. 0,1,2")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--results", runner.results_root, "results root (default: <workspace>/results)");
  app.add_option("--out", options.out_dir, "report folder (default: <results>/<profile>/report)");
  app.add_option("--tables", runner.tables, "only these tables, e.g. A,C")->delimiter(',');
  app.add_option("--experiments", experiments_dir,
                 "experiment definitions (default: <workspace>/experiments)");
  app.add_option("--launcher", runner.launcher,
                 "command that runs a target: LAUNCHER LABEL -- ARGS")
      ->capture_default_str();
  app.add_option("--pr-run", options.pr_run, "experiment for the precision-recall plot");
  app.add_flag("--dry-run", runner.dry_run, "print what would run, run nothing, write no report");
  app.add_option("extra", runner.extra_args, "after --: passed on to every experiment binary");
  CLI11_PARSE(app, argc, argv);

  runner.workspace = report::WorkspaceRoot();
  runner.results_root = runner.results_root.empty() ? runner.workspace + "/results"
                                                    : report::UserPath(runner.results_root);
  runner.experiments_dir = experiments_dir.empty() ? runner.workspace + "/experiments"
                                                   : report::UserPath(experiments_dir);
  for (std::string& t : runner.tables)
    for (char& c : t) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  try {
    const report::RunnerOutcome ran = report::RunMissingExperiments(runner, std::cout);
    if (runner.dry_run) return 0;
    options.results_root = runner.results_root;
    options.profile = runner.profile;
    options.out_dir = options.out_dir.empty()
                          ? runner.results_root + "/" + runner.profile + "/report"
                          : report::UserPath(options.out_dir);
    options.plot_script = report::FindPlotScript(argv[0]);
    const report::ReportOutcome outcome = report::WriteReport(options);
    for (const report::SkippedFile& f : outcome.skipped)
      fmt::print(stderr, "skipped {}: {}\n", f.path, f.reason);
    for (const std::string& w : outcome.warnings) fmt::print(stderr, "warning: {}\n", w);
    fmt::print("Directions of effect (profile {}):\n", options.profile);
    for (const std::string& v : outcome.verdicts) fmt::print("  {}\n", v);
    fmt::print("{} experiments run ({} ok, {} failed); report: {} result files used, {} skipped\n",
               ran.planned, ran.succeeded, ran.failed.size(), outcome.runs, outcome.skipped.size());
    for (const std::string& file : outcome.files) fmt::print("wrote {}\n", file);
    for (const std::string& f : ran.failed) fmt::print(stderr, "failed: {}\n", f);
    return ran.failed.empty() ? 0 : 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
}
