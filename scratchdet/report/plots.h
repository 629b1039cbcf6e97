// The report's figures: the data is gathered here (C++) into one JSON file, and
// reports/plot.py draws it with matplotlib (Debian's, under /usr/bin/python3). Without Python
// or matplotlib the report is still written, saying why it has no plots.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "scratchdet/report/experiment_summary.h"
#include "scratchdet/report/result_tree.h"

namespace scratchdet::report {

struct PlotImage {
  std::string title;
  std::string file;  // relative to the output folder, e.g. "plots/optimisation.png"
};

struct PlotData {
  nlohmann::json json;             // what plot.py reads
  std::vector<PlotImage> images;   // what it is asked to draw
  std::vector<std::string> notes;  // e.g. a curves.csv that could not be read, no PR curves
  std::string pr_run;              // "D/scratchdet300 seed 1" (empty: no PR plot)
};

// Gathers (a) training loss, gradient L2 norm and |g_t - g_{t-1}| of the lowest seed of every
// Table A experiment (curves.csv beside result.json when readable, else metrics.curves),
// (b) per-class AP in % (mean over ok seeds) of every experiment of each table, and (c) the PR
// curves of the best seed of `pr_run` ("EXPERIMENT" or "TABLE/EXPERIMENT"; empty: the Table
// D/E VOC experiment with the best mean).
PlotData BuildPlotData(const std::vector<ExperimentSummary>& summaries, const std::string& pr_run,
                       size_t max_curve_points);

struct PlotOutcome {
  std::vector<PlotImage> images;  // drawn and present on disk
  std::string problem;            // why some or all plots are missing ("" when none are)
};

// Writes `data` to <out_dir>/plots/plot_data.json and runs `python script data plots_dir`.
// Never throws for a missing interpreter, script or matplotlib: that ends up in `problem`.
PlotOutcome DrawPlots(const PlotData& data, const std::string& python, const std::string& script,
                      const std::string& out_dir);

// Where plot.py is: the runfiles of the running binary (RUNFILES_DIR, <argv0>.runfiles,
// TEST_SRCDIR), else BUILD_WORKSPACE_DIRECTORY/reports/plot.py; "" when not found.
std::string FindPlotScript(const std::string& argv0);

}  // namespace scratchdet::report
