#include "scratchdet/report/experiment_summary.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "scratchdet/report/paper_catalogue.h"
#include "scratchdet/report/statistics.h"

namespace scratchdet::report {

std::string FormatPercent(double value) { return fmt::format("{:.1f}", value); }

std::string ExperimentSummary::StatusText() const {
  if (total() == 0) return "missing";
  std::vector<std::string> parts;
  if (ok > 0) parts.push_back(fmt::format("ok {}/{}", ok, total()));
  if (diverged > 0) parts.push_back(fmt::format("diverged ({}/{})", diverged, total()));
  if (failed > 0) parts.push_back(fmt::format("failed ({}/{})", failed, total()));
  return fmt::format("{}", fmt::join(parts, "; "));
}

std::string ExperimentSummary::OursText() const {
  if (!values.empty()) {
    if (values.size() == 1) return fmt::format("{} (n=1)", FormatPercent(mean));
    return fmt::format("{} ± {} (n={})", FormatPercent(mean), FormatPercent(std), values.size());
  }
  if (diverged > 0) return fmt::format("diverged ({}/{})", diverged, total());
  if (failed > 0) return "failed";
  return "missing";
}

std::string ExperimentSummary::DeltaText() const {
  if (values.empty() || !paper_value) return "—";
  return fmt::format("{:+.1f}", mean - *paper_value);
}

std::optional<double> HeadlineValue(const RunResult& run) {
  if (run.state != RunState::kOk) return std::nullopt;
  const auto ap = run.coco.find("AP");
  if (ap != run.coco.end() && std::isfinite(ap->second)) return 100.0 * ap->second;
  return 100.0 * *run.map;
}

namespace {

void AddRun(const RunResult& run, ExperimentSummary* summary) {
  summary->runs.push_back(&run);
  switch (run.state) {
    case RunState::kOk:
      ++summary->ok;
      summary->values.push_back(*HeadlineValue(run));
      if (run.coco.count("AP")) summary->coco_metric = true;
      break;
    case RunState::kDiverged:
      ++summary->diverged;
      break;
    case RunState::kFailed:
      ++summary->failed;
      break;
  }
}

void Finish(ExperimentSummary* summary) {
  if (!summary->values.empty()) {
    summary->mean = Mean(summary->values);
    summary->std = SampleStd(summary->values);
  }
  if (summary->label.empty())
    for (const RunResult* run : summary->runs)
      if (!run->row.empty()) summary->label = run->row;
  // The files' own paper value wins when it differs: it is what the run was defined against.
  for (const RunResult* run : summary->runs) {
    if (!run->paper_value_present || run->paper_value == summary->paper_value) continue;
    const auto show = [](const std::optional<double>& v) {
      return v ? FormatPercent(*v) : std::string("n/r");
    };
    if (summary->in_catalogue)
      summary->paper_note = fmt::format("result files say {}, the report's catalogue {}",
                                        show(run->paper_value), show(summary->paper_value));
    summary->paper_value = run->paper_value;
    break;
  }
}

}  // namespace

std::vector<ExperimentSummary> Summarize(const std::vector<RunResult>& runs) {
  std::vector<ExperimentSummary> summaries;
  for (const PaperTable& table : PaperTables())
    for (const CatalogueRow& row : table.rows) {
      ExperimentSummary summary;
      summary.table = table.id;
      summary.experiment = row.experiment;
      summary.label = row.label;
      summary.paper_value = row.paper_value;
      summaries.push_back(std::move(summary));
    }
  const size_t catalogued = summaries.size();
  for (const RunResult& run : runs) {
    auto it = std::find_if(summaries.begin(), summaries.end(), [&](const ExperimentSummary& s) {
      return s.table == run.table && s.experiment == run.experiment;
    });
    if (it == summaries.end()) {
      ExperimentSummary summary;
      summary.table = run.table;
      summary.experiment = run.experiment;
      summary.in_catalogue = false;
      summaries.push_back(std::move(summary));
      it = summaries.end() - 1;
    }
    AddRun(run, &*it);
  }
  for (ExperimentSummary& summary : summaries) Finish(&summary);
  // Experiments outside the catalogue go after their table's rows, by name.
  std::stable_sort(summaries.begin() + catalogued, summaries.end(),
                   [](const ExperimentSummary& a, const ExperimentSummary& b) {
                     return std::tie(a.table, a.experiment) < std::tie(b.table, b.experiment);
                   });
  return summaries;
}

const ExperimentSummary* FindSummary(const std::vector<ExperimentSummary>& summaries,
                                     const std::string& table, const std::string& experiment) {
  for (const ExperimentSummary& s : summaries)
    if (s.table == table && s.experiment == experiment) return &s;
  return nullptr;
}

}  // namespace scratchdet::report
