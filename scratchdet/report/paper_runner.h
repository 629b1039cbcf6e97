// `bazel run //reports:paper`: runs every paper experiment whose result is missing, then the
// report. The results folder decides what is done; the experiments/ folder what exists.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace scratchdet::report {

struct ExperimentTarget {
  std::string table;  // "A".."E" (from the experiment file's "table")
  std::string name;   // the experiment file's "name" = its target name (experiments/experiment.bzl)
  std::string label;  // "//experiments/table_a:nobn_lr0.001"
};

// Every experiments/table_*/*.json (the files scratchdet_experiment targets are made from),
// sorted by label. A file that cannot be read, or whose name/table do not match its folder and
// file name, is left out with a line in `problems`.
std::vector<ExperimentTarget> ListExperimentTargets(const std::string& experiments_dir,
                                                    std::vector<std::string>* problems);

// A seed is done when <results>/<profile>/table_<t>/<name>/seed<k>/result.json is a valid
// result of that profile and seed with status ok or diverged (diverging is a result); a
// failed, running, malformed or absent one is not.
bool IsRunDone(const std::string& results_root, const std::string& profile,
               const ExperimentTarget& target, int64_t seed);

struct PlannedRun {
  ExperimentTarget target;
  std::vector<int64_t> seeds;  // the seeds not done
};

std::vector<PlannedRun> PlanMissingRuns(const std::vector<ExperimentTarget>& targets,
                                        const std::string& results_root, const std::string& profile,
                                        const std::vector<int64_t>& seeds);

struct RunnerOptions {
  std::string profile = "mini";
  std::vector<int64_t> seeds = {0};
  std::string results_root;
  std::string experiments_dir;
  std::string workspace;                // commands run here (bazel needs the workspace)
  std::string launcher = "bazel run";   // the command is: launcher LABEL -- --profile ...
  std::vector<std::string> tables;      // only these tables ("A".."E"); empty: all
  std::vector<std::string> extra_args;  // appended to each experiment's arguments
  bool dry_run = false;                 // print the commands, run nothing
};

// The shell command for one planned run:
//   cd WORKSPACE && LAUNCHER LABEL -- --profile P --seed 1,2 --out RESULTS [extra args]
std::string ExperimentCommand(const RunnerOptions& options, const PlannedRun& run);

struct RunnerOutcome {
  int planned = 0;  // experiments with missing seeds
  int succeeded = 0;
  std::vector<std::string> failed;    // "LABEL: exit status N" (or not done afterwards)
  std::vector<std::string> problems;  // experiment files left out
};

// Plans, prints the plan to `log`, and runs each command in turn (a failure does not stop the
// others). Returns what happened; the caller writes the report afterwards.
RunnerOutcome RunMissingExperiments(const RunnerOptions& options, std::ostream& log);

}  // namespace scratchdet::report
