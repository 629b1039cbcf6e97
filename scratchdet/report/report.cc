#include "scratchdet/report/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>

#include "scratchdet/core/atomic_file.h"
#include "scratchdet/core/error.h"
#include "scratchdet/core/strings.h"
#include "scratchdet/report/direction_check.h"
#include "scratchdet/report/experiment_summary.h"
#include "scratchdet/report/paper_catalogue.h"
#include "scratchdet/report/plots.h"
#include "scratchdet/report/statistics.h"

namespace scratchdet::report {
namespace {

namespace fs = std::filesystem;

std::string NowUtc() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  return text;
}

std::string PaperText(const ExperimentSummary& s) {
  return s.paper_value ? FormatPercent(*s.paper_value) : "n/r";
}

Cell Text(std::string text) { return {Span{std::move(text), ""}}; }

struct Context {
  const ReportOptions& options;
  fs::path out_dir;  // canonical
  const std::vector<ExperimentSummary>& summaries;
  const std::vector<DirectionResult>& directions;
};

Cell RunLinks(const Context& context, const ExperimentSummary& s) {
  Cell cell;
  for (const RunResult* run : s.runs) {
    const fs::path dir = fs::weakly_canonical(fs::path(run->path).parent_path());
    std::string link = fs::relative(dir, context.out_dir).generic_string();
    if (link.empty()) link = dir.generic_string();
    std::string text = fmt::format("seed{}", run->seed);
    if (run->state != RunState::kOk) text += fmt::format(" ({})", RunStateName(run->state));
    cell.push_back({text, link + "/"});
  }
  if (cell.empty()) cell.push_back({"—", ""});
  return cell;
}

std::vector<std::string> RowNotes(const ExperimentSummary& s) {
  std::vector<std::string> notes;
  if (!s.in_catalogue)
    notes.push_back(
        fmt::format("{}: not a row of the paper's table (found in the results)", s.experiment));
  if (!s.paper_note.empty())
    notes.push_back(fmt::format("{}: paper value: {}", s.experiment, s.paper_note));
  for (const RunResult* run : s.runs) {
    if (run->state == RunState::kOk) continue;
    std::string note =
        fmt::format("{} seed{}: {}", s.experiment, run->seed, RunStateName(run->state));
    if (!run->message.empty()) note += " — " + run->message;
    if (run->diverged_at_iteration && run->message.empty())
      note += fmt::format(" at iteration {}", *run->diverged_at_iteration);
    notes.push_back(note);
  }
  return notes;
}

Table TableAGridTable(const Context& context) {
  const TableAGrid& grid = TableALayout();
  Table table;
  table.header = {"BN backbone", "BN head"};
  for (const std::string& lr : grid.lrs) table.header.push_back("lr " + lr + ": paper / ours");
  for (const TableAGrid::Row& row : grid.rows) {
    std::vector<Cell> cells = {Text(row.bn_backbone), Text(row.bn_head)};
    for (const std::string& lr : grid.lrs) {
      const ExperimentSummary* s = FindSummary(context.summaries, "A", row.prefix + "_lr" + lr);
      cells.push_back(Text(s ? fmt::format("{} / {}", PaperText(*s), s->OursText()) : "—"));
    }
    table.rows.push_back(std::move(cells));
  }
  return table;
}

Table DirectionTable(const std::vector<const DirectionResult*>& results) {
  Table table;
  table.header = {"#",    "paper's claim", "comparison", "ours (left)", "ours (right)",
                  "test", "verdict"};
  for (const DirectionResult* r : results) {
    const Comparison& c = r->comparison;
    table.rows.push_back(
        {Text(c.id), Text(c.claim),
         Text(fmt::format("{} {} {}", c.a.Label(), RelationSymbol(c.relation), c.b.Label())),
         Text(r->a_text), Text(r->b_text), Text(r->test),
         Text(fmt::format("{} ({})", VerdictName(r->verdict), r->detail))});
  }
  return table;
}

Document TableSection(const Context& context, const std::string& table_id) {
  Document doc;
  const PaperTable* paper = FindPaperTable(table_id);
  doc.Heading(2, paper ? fmt::format("Table {} — {}", table_id, paper->title)
                       : fmt::format("Table {} (not a paper table)", table_id));
  if (paper) doc.Paragraph(paper->setting + ".");
  if (table_id == "A") {
    doc.Paragraph("As laid out in the paper (VOC07 mAP %; ours = mean ± std over seeds):");
    doc.AddTable(TableAGridTable(context));
  }
  Table table;
  table.header = {"row",        "experiment", "paper", "ours (mean ± std, n)",
                  "Δ vs paper", "status",     "runs"};
  std::vector<std::string> notes;
  for (const ExperimentSummary& s : context.summaries) {
    if (s.table != table_id) continue;
    table.rows.push_back({Text(s.label.empty() ? s.experiment : s.label), Text(s.experiment),
                          Text(PaperText(s)), Text(s.OursText()), Text(s.DeltaText()),
                          Text(s.StatusText()), RunLinks(context, s)});
    for (std::string& note : RowNotes(s)) notes.push_back(std::move(note));
  }
  doc.AddTable(std::move(table));
  if (!notes.empty()) doc.Bullets(std::move(notes));

  if (table_id == "E") {
    const ExperimentSummary* coco = FindSummary(context.summaries, "E", "scratchdet300_coco");
    if (coco && coco->coco_metric) {
      Table metrics;
      metrics.header = {"COCO metric (scratchdet300_coco)", "paper", "ours (mean ± std, n)"};
      for (const auto& [key, paper_value] : PaperCocoMetrics()) {
        std::vector<double> values;
        for (const RunResult* run : coco->runs) {
          const auto it = run->coco.find(key);
          if (run->state == RunState::kOk && it != run->coco.end())
            values.push_back(100 * it->second);
        }
        ExperimentSummary one;
        one.values = values;
        one.ok = static_cast<int>(values.size());
        if (!values.empty()) {
          one.mean = Mean(values);
          one.std = SampleStd(values);
        }
        metrics.rows.push_back({Text(key), Text(FormatPercent(paper_value)), Text(one.OursText())});
      }
      doc.AddTable(std::move(metrics));
    }
  }
  if (paper && !paper->references.empty()) {
    std::vector<std::string> refs;
    for (const std::string& r : paper->references) refs.push_back("paper only: " + r);
    doc.Bullets(std::move(refs));
  }

  std::vector<const DirectionResult*> involved;
  for (const DirectionResult& r : context.directions)
    if (r.comparison.a.table == table_id || r.comparison.b.table == table_id)
      involved.push_back(&r);
  if (!involved.empty()) {
    doc.Paragraph("Directions of effect involving this table:");
    doc.AddTable(DirectionTable(involved));
  }
  return doc;
}

Document Header(const Context& context, const ReportOutcome& outcome, int ok, int diverged,
                int failed) {
  Document doc;
  const ReportOptions& o = context.options;
  doc.Paragraph(fmt::format(
      "Profile {}, generated {} from {}: {} result files used (ok {}, diverged {}, failed "
      "{}), {} skipped.",
      o.profile, o.generated_at.empty() ? NowUtc() : o.generated_at, o.results_root, outcome.runs,
      ok, diverged, failed, outcome.skipped.size()));
  doc.Paragraph(
      "Numbers are VOC07 mAP in % (the Table E COCO row: COCO AP in %). Ours = mean ± sample "
      "standard deviation (n-1) over the seeds that finished ok, with n; a diverged run is "
      "shown as \"diverged (k/n)\", never as a number. n/r = not recovered from the paper.");
  if (o.profile != "paper")
    doc.Paragraph(fmt::format(
        "The {} profile trains small models on small data: absolute numbers are not comparable "
        "to the paper's; the directions of effect are what this profile can check.",
        o.profile));
  return doc;
}

Document DirectionSection(const Context& context) {
  Document doc;
  doc.Heading(2, "Directions of effect");
  doc.Paragraph(fmt::format(
      "Each paper claim \"left > right\" is checked with Welch's t-test, one-sided at alpha {} "
      "in both directions, when both sides have >= 2 ok seeds; with a single seed on a side: "
      "\"n=1: no test, sign only\". A diverged run counts as worse than any finite mAP (no "
      "test then: the side with fewer divergences wins, ties by the finite mean). \">=\" claims "
      "disagree only when the right side is significantly better.",
      context.options.alpha));
  std::vector<const DirectionResult*> all;
  int agree = 0, disagree = 0, not_significant = 0, missing = 0;
  for (const DirectionResult& r : context.directions) {
    all.push_back(&r);
    switch (r.verdict) {
      case Verdict::kAgree:
        ++agree;
        break;
      case Verdict::kDisagree:
        ++disagree;
        break;
      case Verdict::kNotSignificant:
        ++not_significant;
        break;
      case Verdict::kMissing:
        ++missing;
        break;
    }
  }
  doc.AddTable(DirectionTable(all));
  doc.Paragraph(fmt::format("{} agree, {} disagree, {} not significant, {} missing.", agree,
                            disagree, not_significant, missing));
  return doc;
}

Document SkippedSection(const ReportOutcome& outcome) {
  Document doc;
  doc.Heading(2, "Skipped result files");
  if (outcome.skipped.empty()) {
    doc.Paragraph("None.");
  } else {
    std::vector<std::string> items;
    for (const SkippedFile& f : outcome.skipped) items.push_back(f.path + ": " + f.reason);
    doc.Bullets(std::move(items));
  }
  if (!outcome.warnings.empty()) {
    doc.Heading(2, "Warnings");
    doc.Bullets(outcome.warnings);
  }
  return doc;
}

}  // namespace

ReportOutcome WriteReport(const ReportOptions& options) {
  ReportOutcome outcome;
  ResultTree tree = ScanResults(options.results_root, options.profile);
  outcome.skipped = tree.skipped;
  outcome.runs = static_cast<int>(tree.runs.size());
  int ok = 0, diverged = 0, failed = 0;
  for (const RunResult& run : tree.runs) {
    ok += run.state == RunState::kOk;
    diverged += run.state == RunState::kDiverged;
    failed += run.state == RunState::kFailed;
    for (const std::string& w : run.warnings) outcome.warnings.push_back(run.path + ": " + w);
  }
  const std::vector<ExperimentSummary> summaries = Summarize(tree.runs);
  const std::vector<DirectionResult> directions = CheckPaperDirections(summaries, options.alpha);
  for (const DirectionResult& r : directions)
    outcome.verdicts.push_back(
        fmt::format("{} {} ({} {} {}): {} ({}) — {}", r.comparison.id, r.comparison.claim,
                    r.comparison.a.Label(), RelationSymbol(r.comparison.relation),
                    r.comparison.b.Label(), VerdictName(r.verdict), r.detail, r.test));

  std::error_code error;
  fs::create_directories(options.out_dir, error);
  if (!fs::is_directory(options.out_dir))
    Fail("{}: cannot create the output folder", options.out_dir);
  const Context context{options, fs::weakly_canonical(options.out_dir), summaries, directions};

  // Plots first: their notes belong in the report's warnings.
  Document plots;
  plots.Heading(2, "Plots");
  const PlotData plot_data = BuildPlotData(summaries, options.pr_run, options.max_curve_points);
  for (const std::string& note : plot_data.notes) outcome.warnings.push_back(note);
  if (plot_data.images.empty()) {
    plots.Paragraph("No plots: no run has curves, per-class AP or precision-recall data.");
  } else if (!options.plots) {
    plots.Paragraph("Plots were not requested (--no-plots).");
  } else {
    const PlotOutcome drawn =
        DrawPlots(plot_data, options.python, options.plot_script, context.out_dir.string());
    if (!drawn.problem.empty()) {
      plots.Paragraph("Some or all plots are missing: " + drawn.problem);
      outcome.warnings.push_back("plots: " + drawn.problem);
    }
    for (const PlotImage& image : drawn.images) plots.Image(image.title, image.file);
  }

  std::vector<std::string> table_ids;
  for (const PaperTable& t : PaperTables()) table_ids.push_back(t.id);
  for (const ExperimentSummary& s : summaries)
    if (std::find(table_ids.begin(), table_ids.end(), s.table) == table_ids.end())
      table_ids.push_back(s.table);

  const Document header = Header(context, outcome, ok, diverged, failed);
  const Document skipped = SkippedSection(outcome);
  Document all;
  all.Heading(
      1, fmt::format("ScratchDet reproduction: the paper's tables (profile {})", options.profile));
  all.Append(header);
  const auto write = [&](const std::string& name, const std::string& text) {
    const std::string path = (context.out_dir / name).string();
    WriteFileAtomic(path, text);
    outcome.files.push_back(path);
  };
  for (const std::string& id : table_ids) {
    const Document section = TableSection(context, id);
    all.Append(section);
    Document single;
    single.Heading(1, fmt::format("Table {} (profile {})", id, options.profile));
    single.Append(header);
    single.Append(section);
    if (!outcome.skipped.empty())
      single.Paragraph(
          fmt::format("{} result files were skipped: see tables.md.", outcome.skipped.size()));
    write(fmt::format("table_{}.md", AsciiLower(id)), RenderMarkdown(single));
  }
  all.Append(DirectionSection(context));
  all.Append(plots);
  all.Append(skipped);
  write("tables.md", RenderMarkdown(all));
  write("report.html", RenderHtml(all, fmt::format("ScratchDet tables ({})", options.profile),
                                  context.out_dir.string()));
  return outcome;
}

}  // namespace scratchdet::report
