// Per-experiment aggregation over seeds: the numbers in each table row.
#pragma once

#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "scratchdet/report/result_file.h"

namespace scratchdet::report {

struct ExperimentSummary {
  std::string table;                  // "A".."E"
  std::string experiment;             // e.g. "bn_head_lr0.01"
  std::string label;                  // row text (catalogue, else the result's experiment.row)
  std::optional<double> paper_value;  // in %, nullopt = n/r
  std::string paper_note;             // set when the result files state a different paper value
  bool in_catalogue = true;
  bool coco_metric = false;            // the headline number is COCO AP (metrics.coco.AP)
  std::vector<const RunResult*> runs;  // every finished run, by seed (failed ones included)
  std::vector<double> values;          // headline metric in % of the ok runs, by seed
  int ok = 0;
  int diverged = 0;
  int failed = 0;
  double mean = std::numeric_limits<double>::quiet_NaN();  // over `values`
  double std = std::numeric_limits<double>::quiet_NaN();   // sample std (n-1), 0 for n=1

  int total() const { return ok + diverged + failed; }
  // "ok 3/3", "ok 2/3; diverged (1/3)", "diverged (2/2)", "failed (1/1)", "missing".
  std::string StatusText() const;
  // "53.0 ± 3.6 (n=3)", "53.0 (n=1)", "diverged (2/2)", "failed", "missing"; never a 0 for a
  // run without a number.
  std::string OursText() const;
  // "+1.2" / "-20.3" against the paper; "—" when either side has no number.
  std::string DeltaText() const;
};

// The headline number of a run in %: metrics.coco.AP for a COCO-metric run, else metrics.mAP;
// nullopt unless the run is ok.
std::optional<double> HeadlineValue(const RunResult& run);

// One summary per catalogue row (paper order, also when no run exists), then any experiment
// found in `runs` but not in the catalogue, appended to its table (or a table of its own).
std::vector<ExperimentSummary> Summarize(const std::vector<RunResult>& runs);

// nullptr when absent.
const ExperimentSummary* FindSummary(const std::vector<ExperimentSummary>& summaries,
                                     const std::string& table, const std::string& experiment);

// Formats a number in % the way every table shows it (one decimal, as in the paper).
std::string FormatPercent(double value);

}  // namespace scratchdet::report
