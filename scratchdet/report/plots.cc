#include "scratchdet/report/plots.h"

#include <fmt/format.h>
#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "scratchdet/core/atomic_file.h"
#include "scratchdet/core/error.h"
#include "scratchdet/core/strings.h"

namespace scratchdet::report {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// NaN/Inf become null in the JSON (a diverged run's last points).
json Series(const std::vector<double>& values) {
  json out = json::array();
  for (double v : values) out.push_back(std::isfinite(v) ? json(v) : json(nullptr));
  return out;
}

const RunResult* LowestSeed(const ExperimentSummary& s) {
  for (const RunResult* run : s.runs)
    if (run->state != RunState::kFailed) return run;
  return nullptr;
}

json OptimisationRuns(const std::vector<ExperimentSummary>& summaries, size_t max_points,
                      std::vector<std::string>* notes) {
  json runs = json::array();
  for (const ExperimentSummary& s : summaries) {
    if (s.table != "A") continue;
    const RunResult* run = LowestSeed(s);
    if (!run) continue;
    TrainingCurves curves;
    std::string source;
    if (!run->curves_csv.empty()) {
      const fs::path csv = fs::path(run->path).parent_path() / run->curves_csv;
      if (fs::exists(csv)) {
        try {
          curves = ReadCurvesCsv(csv.string(), max_points);
          source = run->curves_csv;
        } catch (const Error& e) {
          notes->push_back(fmt::format("{} (using metrics.curves instead)", e.what()));
        }
      }
    }
    if (curves.empty()) {
      curves = run->curves;
      source = "metrics.curves";
    }
    if (curves.empty()) {
      notes->push_back(fmt::format("{}: no training curves (neither {} nor metrics.curves)",
                                   run->path,
                                   run->curves_csv.empty() ? "curves_csv" : run->curves_csv));
      continue;
    }
    runs.push_back({{"label", fmt::format("{} seed{}{}", s.experiment, run->seed,
                                          run->state == RunState::kDiverged ? " (diverged)" : "")},
                    {"diverged", run->state == RunState::kDiverged},
                    {"source", source},
                    {"iteration", Series(curves.iteration)},
                    {"loss", Series(curves.loss)},
                    {"grad_norm", Series(curves.grad_norm)},
                    {"grad_delta", Series(curves.grad_delta)}});
  }
  return runs;
}

// Mean per-class AP in % over a summary's ok runs; classes in first-seen order.
json PerClassAp(const std::vector<ExperimentSummary>& summaries, const std::string& table) {
  std::vector<std::string> classes;
  json series = json::array();
  std::vector<std::pair<std::string, std::map<std::string, double>>> means;
  for (const ExperimentSummary& s : summaries) {
    if (s.table != table) continue;
    std::map<std::string, std::pair<double, int>> sums;
    for (const RunResult* run : s.runs) {
      if (run->state != RunState::kOk) continue;
      for (const auto& [name, ap] : run->per_class_ap) {
        if (std::find(classes.begin(), classes.end(), name) == classes.end())
          classes.push_back(name);
        if (ap && std::isfinite(*ap)) {
          sums[name].first += 100.0 * *ap;
          sums[name].second += 1;
        }
      }
    }
    if (sums.empty()) continue;
    std::map<std::string, double> mean;
    for (const auto& [name, sum] : sums) mean[name] = sum.first / sum.second;
    means.emplace_back(s.experiment, std::move(mean));
  }
  for (const auto& [experiment, mean] : means) {
    json values = json::array();
    for (const std::string& c : classes) {
      const auto it = mean.find(c);
      values.push_back(it == mean.end() ? json(nullptr) : json(it->second));
    }
    series.push_back({{"label", experiment}, {"values", values}});
  }
  if (series.empty()) return nullptr;
  return {{"classes", classes}, {"series", series}};
}

const ExperimentSummary* ChoosePrExperiment(const std::vector<ExperimentSummary>& summaries,
                                            const std::string& pr_run,
                                            std::vector<std::string>* notes) {
  const auto has_pr = [](const ExperimentSummary& s) {
    for (const RunResult* run : s.runs)
      if (run->state == RunState::kOk && !run->pr_curves.empty()) return true;
    return false;
  };
  if (!pr_run.empty()) {
    std::string table, name = pr_run;
    const size_t slash = pr_run.find('/');
    if (slash != std::string::npos) {
      table = pr_run.substr(0, slash);
      if (AsciiLower(table).rfind("table_", 0) == 0) table = table.substr(6);
      table = AsciiUpper(table);
      name = pr_run.substr(slash + 1);
    }
    // A bare name may exist in two tables (root_resnet18 is in C and D): prefer D, then E.
    const ExperimentSummary* found = nullptr;
    for (const char* preferred : {"D", "E", ""})
      for (const ExperimentSummary& s : summaries)
        if (!found && s.experiment == name &&
            (table.empty() ? (*preferred == 0 || s.table == preferred) : s.table == table))
          found = &s;
    if (!found) {
      notes->push_back(fmt::format("--pr-run {}: no such experiment in the results", pr_run));
      return nullptr;
    }
    if (!has_pr(*found)) {
      notes->push_back(fmt::format("--pr-run {}: no ok run with pr_curves", pr_run));
      return nullptr;
    }
    return found;
  }
  const ExperimentSummary* best = nullptr;
  for (const ExperimentSummary& s : summaries) {
    if ((s.table != "D" && s.table != "E") || s.coco_metric || !has_pr(s)) continue;
    if (!best || s.mean > best->mean) best = &s;
  }
  if (!best) notes->push_back("no ok Table D/E run has pr_curves: no precision-recall plot");
  return best;
}

}  // namespace

PlotData BuildPlotData(const std::vector<ExperimentSummary>& summaries, const std::string& pr_run,
                       size_t max_curve_points) {
  PlotData data;
  data.json = json::object();
  const json runs = OptimisationRuns(summaries, max_curve_points, &data.notes);
  if (!runs.empty()) {
    const PlotImage image{
        "Table A optimisation: training loss, gradient L2 norm and |g_t - g_(t-1)| vs iteration",
        "plots/optimisation.png"};
    data.json["optimisation"] = {{"file", image.file}, {"title", image.title}, {"runs", runs}};
    data.images.push_back(image);
  }
  data.json["per_class_ap"] = json::array();
  for (const char* table : {"A", "B", "C", "D", "E"}) {
    json ap = PerClassAp(summaries, table);
    if (ap.is_null()) continue;
    const PlotImage image{fmt::format("Table {}: per-class AP (%, mean over ok seeds)", table),
                          fmt::format("plots/per_class_ap_table_{}.png", AsciiLower(table))};
    ap["file"] = image.file;
    ap["title"] = image.title;
    data.json["per_class_ap"].push_back(ap);
    data.images.push_back(image);
  }
  if (const ExperimentSummary* s = ChoosePrExperiment(summaries, pr_run, &data.notes)) {
    const RunResult* best = nullptr;
    for (const RunResult* run : s->runs)
      if (run->state == RunState::kOk && !run->pr_curves.empty() &&
          (!best || *HeadlineValue(*run) > *HeadlineValue(*best)))
        best = run;
    data.pr_run = fmt::format("{}/{} seed {}", s->table, s->experiment, best->seed);
    const PlotImage image{fmt::format("Precision-recall curves of {} (AP {:.1f}%)", data.pr_run,
                                      *HeadlineValue(*best)),
                          "plots/pr_curves.png"};
    json curves = json::array();
    for (const auto& [name, curve] : best->pr_curves)
      curves.push_back({{"class", name},
                        {"precision", Series(curve.precision)},
                        {"recall", Series(curve.recall)}});
    data.json["pr"] = {{"file", image.file}, {"title", image.title}, {"curves", curves}};
    data.images.push_back(image);
  }
  return data;
}

PlotOutcome DrawPlots(const PlotData& data, const std::string& python, const std::string& script,
                      const std::string& out_dir) {
  PlotOutcome outcome;
  if (data.images.empty()) return outcome;
  if (script.empty() || !fs::exists(script)) {
    outcome.problem = "plot script reports/plot.py not found (pass --plot-script)";
    return outcome;
  }
  if (!fs::exists(python)) {
    outcome.problem = fmt::format("{} not found: plots need Debian's python3-matplotlib", python);
    return outcome;
  }
  const std::string plots_dir = out_dir + "/plots";
  const std::string data_path = plots_dir + "/plot_data.json";
  const std::string log_path = plots_dir + "/plot.log";
  WriteFileAtomic(data_path, data.json.dump());
  for (const PlotImage& image : data.images) fs::remove(out_dir + "/" + image.file);
  const std::string command = fmt::format("{} {} {} {} > {} 2>&1", ShellQuote(python), ShellQuote(script),
                                          ShellQuote(data_path), ShellQuote(out_dir), ShellQuote(log_path));
  const int status = std::system(command.c_str());
  std::string log;
  {
    std::ifstream in(log_path);
    std::ostringstream text;
    text << in.rdbuf();
    log = text.str();
  }
  for (const PlotImage& image : data.images)
    if (fs::exists(out_dir + "/" + image.file)) outcome.images.push_back(image);
  if (status != 0 || outcome.images.size() != data.images.size()) {
    // plot.py prints one line naming the problem (e.g. matplotlib missing) as its last line.
    std::string last = log;
    while (!last.empty() && std::isspace(static_cast<unsigned char>(last.back()))) last.pop_back();
    const size_t newline = last.rfind('\n');
    if (newline != std::string::npos) last = last.substr(newline + 1);
    outcome.problem = fmt::format("{} plot(s) of {} drawn; {} exited with status {}: {} (log: {})",
                                  outcome.images.size(), data.images.size(), script,
                                  WEXITSTATUS(status), last.empty() ? "no output" : last, log_path);
  }
  return outcome;
}

std::string FindPlotScript(const std::string& argv0) {
  std::vector<fs::path> candidates;
  const auto env = [](const char* name) {
    const char* v = std::getenv(name);
    return v ? std::string(v) : std::string();
  };
  if (!env("RUNFILES_DIR").empty())
    candidates.push_back(fs::path(env("RUNFILES_DIR")) / "scratchdet/reports/plot.py");
  if (!argv0.empty())
    candidates.push_back(fs::path(argv0 + ".runfiles") / "scratchdet/reports/plot.py");
  if (!env("TEST_SRCDIR").empty())
    candidates.push_back(fs::path(env("TEST_SRCDIR")) / "scratchdet/reports/plot.py");
  if (!env("BUILD_WORKSPACE_DIRECTORY").empty())
    candidates.push_back(fs::path(env("BUILD_WORKSPACE_DIRECTORY")) / "reports/plot.py");
  for (const fs::path& p : candidates)
    if (fs::exists(p)) return fs::absolute(p).string();
  return "";
}

}  // namespace scratchdet::report
