// Writes the paper's tables from a results folder: table_<t>.md per paper table, tables.md
// with everything, report.html (self-contained, plots embedded) and plots/*.png.
// `bazel run //reports:tables` is the command; reports/README.md describes the output.
#pragma once

#include <string>
#include <vector>

#include "scratchdet/report/document.h"
#include "scratchdet/report/result_tree.h"

namespace scratchdet::report {

struct ReportOptions {
  std::string results_root;  // holds <profile>/table_<t>/<experiment>/seed<k>/result.json
  std::string out_dir;
  std::string profile = "mini";
  std::string pr_run;  // "EXPERIMENT" or "TABLE/EXPERIMENT"; empty: best D/E run
  std::string python = "/usr/bin/python3";
  std::string plot_script;  // reports/plot.py; empty: no plots (the report says so)
  bool plots = true;
  double alpha = 0.05;  // one-sided significance level of the direction checks
  size_t max_curve_points = 2000;
  std::string generated_at;  // shown in the header; empty: now (UTC)
};

struct ReportOutcome {
  std::vector<std::string> files;     // written, absolute
  std::vector<SkippedFile> skipped;   // result files not used, with the reason
  std::vector<std::string> warnings;  // partial problems (a malformed optional field, plots)
  int runs = 0;                       // result files used
  // One line per paper direction of effect: "1 BN in head > no BN: agree (...) — <test>".
  std::vector<std::string> verdicts;
};

// Reads, aggregates and writes everything. Throws Error only when the results folder does not
// exist or the output cannot be written; bad result files are skipped and listed.
ReportOutcome WriteReport(const ReportOptions& options);

}  // namespace scratchdet::report
