#include "scratchdet/report/result_file.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include "scratchdet/core/error.h"

namespace scratchdet::report {
namespace {

using nlohmann::json;

std::string TypeName(const json& j) { return j.type_name(); }

const json& Required(const json& object, const char* key, const std::string& where,
                     const std::string& path) {
  if (!object.is_object()) Fail("{}: {} is {}, expected an object", path, where, TypeName(object));
  const auto it = object.find(key);
  if (it == object.end())
    Fail("{}: missing field '{}{}'", path, where.empty() ? "" : where + ".", key);
  return *it;
}

std::string RequiredString(const json& object, const char* key, const std::string& where,
                           const std::string& path) {
  const json& value = Required(object, key, where, path);
  const std::string name = (where.empty() ? "" : where + ".") + key;
  if (!value.is_string())
    Fail("{}: field '{}' is {}, expected a string", path, name, TypeName(value));
  if (value.get<std::string>().empty()) Fail("{}: field '{}' is empty", path, name);
  return value.get<std::string>();
}

// A JSON array of numbers (null read as NaN: a diverged run's curve may hold them).
bool NumberArray(const json& j, std::vector<double>* out) {
  if (!j.is_array()) return false;
  out->clear();
  for (const json& v : j) {
    if (v.is_number())
      out->push_back(v.get<double>());
    else if (v.is_null())
      out->push_back(NAN);
    else
      return false;
  }
  return true;
}

// Paper value: a number (in %) or the string "n/r".
bool ReadPaperValue(const json& j, std::optional<double>* out) {
  if (j.is_number()) {
    *out = j.get<double>();
    return true;
  }
  if (j.is_string() && j.get<std::string>() == "n/r") {
    out->reset();
    return true;
  }
  return false;
}

void ReadPerClassAp(const json& metrics, RunResult* run) {
  const auto it = metrics.find("per_class_ap");
  if (it == metrics.end()) return;
  if (!it->is_object()) {
    run->warnings.push_back("metrics.per_class_ap is " + TypeName(*it) + ", expected an object");
    return;
  }
  for (const auto& [name, value] : it->items()) {
    if (value.is_number()) {
      run->per_class_ap.emplace_back(name, value.get<double>());
    } else if (value.is_null()) {
      run->per_class_ap.emplace_back(name, std::nullopt);
    } else {
      run->warnings.push_back("metrics.per_class_ap." + name + " is " + TypeName(value) +
                              ", expected a number or null; per-class AP left out");
      run->per_class_ap.clear();
      return;
    }
  }
}

void ReadPrCurves(const json& metrics, RunResult* run) {
  const auto it = metrics.find("pr_curves");
  if (it == metrics.end()) return;
  if (!it->is_object()) {
    run->warnings.push_back("metrics.pr_curves is " + TypeName(*it) + ", expected an object");
    return;
  }
  for (const auto& [name, value] : it->items()) {
    PrCurve curve;
    if (!value.is_object() || !value.contains("precision") || !value.contains("recall") ||
        !NumberArray(value["precision"], &curve.precision) ||
        !NumberArray(value["recall"], &curve.recall) ||
        curve.precision.size() != curve.recall.size()) {
      run->warnings.push_back("metrics.pr_curves." + name +
                              " needs equal-length number arrays 'precision' and 'recall'; "
                              "left out");
      continue;
    }
    run->pr_curves.emplace(name, std::move(curve));
  }
}

void ReadCurves(const json& metrics, RunResult* run) {
  const auto it = metrics.find("curves");
  if (it == metrics.end()) return;
  TrainingCurves curves;
  if (!it->is_object() || !it->contains("iteration") ||
      !NumberArray((*it)["iteration"], &curves.iteration)) {
    run->warnings.push_back(
        "metrics.curves needs an object with a number array 'iteration'; "
        "curves left out");
    return;
  }
  const std::pair<const char*, std::vector<double>*> series[] = {
      {"loss", &curves.loss}, {"grad_norm", &curves.grad_norm}, {"grad_delta", &curves.grad_delta}};
  for (const auto& [key, target] : series) {
    if (!it->contains(key)) continue;
    if (!NumberArray((*it)[key], target) || target->size() != curves.iteration.size()) {
      run->warnings.push_back(std::string("metrics.curves.") + key +
                              " is not a number array as long as 'iteration'; left out");
      target->clear();
    }
  }
  run->curves = std::move(curves);
}

void ReadCoco(const json& metrics, RunResult* run) {
  const auto it = metrics.find("coco");
  if (it == metrics.end() || it->is_null()) return;
  if (!it->is_object()) {
    run->warnings.push_back("metrics.coco is " + TypeName(*it) + ", expected an object");
    return;
  }
  // -1 is the COCO evaluators' "undefined" (no ground truth in that area range).
  for (const auto& [name, value] : it->items())
    if (value.is_number() && value.get<double>() >= 0) run->coco[name] = value.get<double>();
}

}  // namespace

const char* RunStateName(RunState state) {
  switch (state) {
    case RunState::kOk:
      return "ok";
    case RunState::kDiverged:
      return "diverged";
    case RunState::kFailed:
      return "failed";
  }
  return "?";
}

RunResult ParseRunResult(const json& result, const std::string& path) {
  if (!result.is_object()) Fail("{}: top level is {}, expected an object", path, TypeName(result));
  RunResult run;
  run.path = path;

  const json& version = Required(result, "schema_version", "", path);
  if (!version.is_number_integer() || version.get<int64_t>() != 1)
    Fail("{}: schema_version is {}, expected 1", path, version.dump());

  const json& experiment = Required(result, "experiment", "", path);
  run.experiment = RequiredString(experiment, "name", "experiment", path);
  run.table = RequiredString(experiment, "table", "experiment", path);
  if (experiment.contains("row") && experiment["row"].is_string()) run.row = experiment["row"];

  run.profile = RequiredString(result, "profile", "", path);
  const json& seed = Required(result, "seed", "", path);
  if (!seed.is_number_integer() || seed.get<int64_t>() < 0)
    Fail("{}: seed is {}, expected an integer >= 0", path, seed.dump());
  run.seed = seed.get<int64_t>();

  const json& status = Required(result, "status", "", path);
  const std::string state = RequiredString(status, "state", "status", path);
  if (status.contains("message") && status["message"].is_string()) run.message = status["message"];
  if (state == "ok") {
    run.state = RunState::kOk;
  } else if (state == "diverged") {
    run.state = RunState::kDiverged;
  } else if (state == "failed") {
    run.state = RunState::kFailed;
  } else if (state == "running") {
    Fail("{}: status.state is 'running': the run has not finished", path);
  } else if (state == "interrupted") {
    Fail("{}: status.state is 'interrupted': the run stopped early; run it again to resume",
         path);
  } else {
    Fail("{}: status.state is '{}', expected ok, diverged, failed, interrupted or running", path,
         state);
  }

  // The top-level paper_value is the contract; experiment.paper_value is the same number.
  for (const json* holder : {&result, &experiment}) {
    if (!holder->contains("paper_value")) continue;
    if (!ReadPaperValue((*holder)["paper_value"], &run.paper_value))
      Fail("{}: paper_value is {}, expected a number or \"n/r\"", path,
           (*holder)["paper_value"].dump());
    run.paper_value_present = true;
    break;
  }

  const auto metrics_it = result.find("metrics");
  const bool has_metrics = metrics_it != result.end() && !metrics_it->is_null();
  if (has_metrics && !metrics_it->is_object())
    Fail("{}: metrics is {}, expected an object", path, TypeName(*metrics_it));
  if (run.state == RunState::kOk) {
    if (!has_metrics) Fail("{}: status is ok but field 'metrics' is missing", path);
    const json& map = Required(*metrics_it, "mAP", "metrics", path);
    if (!map.is_number())
      Fail("{}: status is ok but metrics.mAP is {}, expected a number in [0, 1]", path, map.dump());
    const double value = map.get<double>();
    if (!std::isfinite(value) || value < 0 || value > 1)
      Fail("{}: metrics.mAP is {}, expected a fraction in [0, 1]", path, value);
    run.map = value;
  }
  if (!has_metrics) return run;
  const json& metrics = *metrics_it;
  ReadPerClassAp(metrics, &run);
  ReadPrCurves(metrics, &run);
  ReadCurves(metrics, &run);
  ReadCoco(metrics, &run);
  if (metrics.contains("curves_csv")) {
    if (metrics["curves_csv"].is_string())
      run.curves_csv = metrics["curves_csv"];
    else
      run.warnings.push_back("metrics.curves_csv is not a string; ignored");
  }
  if (metrics.contains("diverged_at_iteration") &&
      metrics["diverged_at_iteration"].is_number_integer())
    run.diverged_at_iteration = metrics["diverged_at_iteration"].get<int64_t>();
  return run;
}

RunResult LoadRunResult(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Fail("{}: cannot be read", path);
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().empty()) Fail("{}: file is empty", path);
  json result;
  try {
    result = json::parse(text.str());
  } catch (const json::parse_error& e) {
    // nlohmann reports the byte offset; a truncated file fails at its end.
    Fail("{}: not valid JSON ({})", path, e.what());
  }
  return ParseRunResult(result, path);
}

TrainingCurves ReadCurvesCsv(const std::string& path, size_t max_points) {
  std::ifstream in(path);
  if (!in) Fail("{}: cannot be read", path);
  std::string line;
  if (!std::getline(in, line)) Fail("{}: empty file, expected a header line", path);
  std::vector<std::string> header;
  {
    std::stringstream fields(line);
    std::string field;
    while (std::getline(fields, field, ',')) header.push_back(field);
  }
  int col_iteration = -1, col_loss = -1, col_norm = -1, col_delta = -1;
  for (int c = 0; c < static_cast<int>(header.size()); ++c) {
    if (header[c] == "iteration") col_iteration = c;
    if (header[c] == "loss") col_loss = c;
    if (header[c] == "grad_norm") col_norm = c;
    if (header[c] == "grad_delta") col_delta = c;
  }
  if (col_iteration < 0) Fail("{}:1: header has no 'iteration' column", path);

  std::vector<std::vector<double>> rows;
  int line_number = 1;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.empty()) continue;
    std::vector<double> row;
    std::stringstream fields(line);
    std::string field;
    while (std::getline(fields, field, ',')) {
      try {
        size_t used = 0;
        row.push_back(std::stod(field, &used));  // accepts nan / inf of a diverged run
        if (used != field.size()) throw std::invalid_argument(field);
      } catch (const std::exception&) {
        Fail("{}:{}: '{}' is not a number", path, line_number, field);
      }
    }
    if (row.size() != header.size())
      Fail("{}:{}: {} fields, expected {} as in the header", path, line_number, row.size(),
           header.size());
    rows.push_back(std::move(row));
  }

  TrainingCurves curves;
  // |g_t - g_{t-1}| from consecutive rows, before striding (the csv holds every iteration).
  std::vector<double> derived_delta(rows.size(), NAN);
  if (col_delta < 0 && col_norm >= 0)
    for (size_t r = 1; r < rows.size(); ++r)
      derived_delta[r] = std::fabs(rows[r][col_norm] - rows[r - 1][col_norm]);
  // Rows 0, s, 2s, ... and the last row: at most max_points rows for s = ceil((n-1)/(m-1)).
  std::vector<size_t> keep;
  if (!rows.empty()) {
    const size_t n = rows.size();
    const size_t m = std::max<size_t>(max_points, 2);
    const size_t stride = std::max<size_t>(1, (n - 1 + m - 2) / (m - 1));
    for (size_t r = 0; r < n; r += stride) keep.push_back(r);
    if (keep.back() != n - 1) keep.push_back(n - 1);
  }
  for (size_t r : keep) {
    curves.iteration.push_back(rows[r][col_iteration]);
    if (col_loss >= 0) curves.loss.push_back(rows[r][col_loss]);
    if (col_norm >= 0) curves.grad_norm.push_back(rows[r][col_norm]);
    if (col_delta >= 0)
      curves.grad_delta.push_back(rows[r][col_delta]);
    else if (col_norm >= 0)
      curves.grad_delta.push_back(derived_delta[r]);
  }
  return curves;
}

}  // namespace scratchdet::report
