// One run's result.json (the contract is the trainer's, scratchdet/engine/run.cc; the fields
// are listed in reports/README.md), read and checked field by field so that a report never
// trusts a half-written or hand-edited file.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace scratchdet::report {

enum class RunState { kOk, kDiverged, kFailed };

const char* RunStateName(RunState state);  // "ok", "diverged", "failed"

struct PrCurve {
  std::vector<double> precision;
  std::vector<double> recall;  // same length as precision
};

// Training curves over iterations; empty vectors when a series is not recorded.
struct TrainingCurves {
  std::vector<double> iteration;
  std::vector<double> loss;
  std::vector<double> grad_norm;
  std::vector<double> grad_delta;  // |g_t - g_{t-1}| of the gradient L2 norm
  bool empty() const { return iteration.empty(); }
};

struct RunResult {
  std::string path;  // the result.json as found
  std::string profile;
  std::string table;                  // "A".."E"
  std::string experiment;             // e.g. "bn_head_lr0.01"
  std::string row;                    // the experiment's row label ("" when absent)
  std::optional<double> paper_value;  // in %, nullopt for "n/r" or absent
  bool paper_value_present = false;   // the file states a paper value (number or "n/r")
  int64_t seed = 0;
  RunState state = RunState::kOk;
  std::string message;                 // status.message
  std::optional<double> map;           // metrics.mAP as a fraction; set iff state is ok
  std::map<std::string, double> coco;  // metrics.coco (fractions), when a COCO-metric run
  std::vector<std::pair<std::string, std::optional<double>>> per_class_ap;  // file order
  std::map<std::string, PrCurve> pr_curves;
  TrainingCurves curves;   // metrics.curves (sampled by the trainer)
  std::string curves_csv;  // metrics.curves_csv, relative to the result's folder
  std::optional<int64_t> diverged_at_iteration;
  std::vector<std::string> warnings;  // optional parts that were malformed and left out
};

// Checks and converts a parsed result. Required: schema_version 1, experiment.name,
// experiment.table, profile, seed (integer >= 0), status.state in ok|diverged|failed, and for
// ok a finite metrics.mAP in [0, 1]. A "running" state is refused (the run is not finished).
// Throws scratchdet::Error "<path>: <reason>" for anything required that is missing or of the
// wrong type; malformed optional parts (per-class AP, curves, ...) become `warnings`.
RunResult ParseRunResult(const nlohmann::json& result, const std::string& path);

// Reads and parses the file; not-JSON and truncated files throw Error naming the path.
RunResult LoadRunResult(const std::string& path);

// Reads a trainer curves.csv (header iteration,loss,loc,conf,grad_norm,grad_delta,lr; only
// iteration is required, grad_delta is derived from grad_norm when absent) keeping at most
// `max_points` (>= 2) rows, evenly strided, always including the last one (a divergence shows
// there). Throws Error "<path>:<line>: ..." on a malformed line.
TrainingCurves ReadCurvesCsv(const std::string& path, size_t max_points);

}  // namespace scratchdet::report
