// bazel run //reports:tables -- [--results DIR] [--out DIR] [--profile mini|paper|smoke]
//     [--pr-run EXPERIMENT] [--no-plots]
// Writes the paper's tables A-E from result JSON files; see reports/README.md.
#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include "scratchdet/core/error.h"
#include "scratchdet/report/plots.h"
#include "scratchdet/report/report.h"
#include "scratchdet/report/workspace_paths.h"

int main(int argc, char** argv) {
  namespace report = scratchdet::report;
  report::ReportOptions options;
  bool no_plots = false;
  CLI::App app{
      "Regenerates the paper's tables (Markdown + HTML with plots) from result JSON files"};
  app.add_option("--results", options.results_root,
                 "results root holding <profile>/table_<t>/<experiment>/seed<k>/result.json "
                 "(default: <workspace>/results)");
  app.add_option("--out", options.out_dir, "output folder (default: <results>/<profile>/report)");
  app.add_option("--profile", options.profile, "profile whose results are read")
      ->check(CLI::IsMember({"mini", "paper", "smoke"}))
      ->capture_default_str();
  app.add_option("--pr-run", options.pr_run,
                 "experiment for the precision-recall plot, EXPERIMENT or TABLE/EXPERIMENT "
                 "(default: the best Table D/E VOC run)");
  app.add_option("--alpha", options.alpha, "one-sided significance level")->capture_default_str();
  app.add_option("--python", options.python, "Python with matplotlib")->capture_default_str();
  app.add_option("--plot-script", options.plot_script, "reports/plot.py (default: from runfiles)");
  app.add_flag("--no-plots", no_plots, "write the report without plots");
  CLI11_PARSE(app, argc, argv);

  options.plots = !no_plots;
  options.results_root = options.results_root.empty() ? report::WorkspaceRoot() + "/results"
                                                      : report::UserPath(options.results_root);
  options.out_dir = options.out_dir.empty()
                        ? options.results_root + "/" + options.profile + "/report"
                        : report::UserPath(options.out_dir);
  options.plot_script = options.plot_script.empty() ? report::FindPlotScript(argv[0])
                                                    : report::UserPath(options.plot_script);
  try {
    const report::ReportOutcome outcome = report::WriteReport(options);
    for (const report::SkippedFile& f : outcome.skipped)
      fmt::print(stderr, "skipped {}: {}\n", f.path, f.reason);
    for (const std::string& w : outcome.warnings) fmt::print(stderr, "warning: {}\n", w);
    fmt::print("Directions of effect (profile {}):\n", options.profile);
    for (const std::string& v : outcome.verdicts) fmt::print("  {}\n", v);
    fmt::print("{} result files used, {} skipped (profile {})\n", outcome.runs,
               outcome.skipped.size(), options.profile);
    for (const std::string& file : outcome.files) fmt::print("wrote {}\n", file);
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
  return 0;
}
