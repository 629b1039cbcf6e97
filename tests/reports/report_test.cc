// End to end: a fixture results tree (several seeds, diverged, failed, malformed, truncated,
// running, another profile, a missing table) through WriteReport, asserting the Markdown.
#include "scratchdet/report/report.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "scratchdet/core/error.h"
#include "tests/reports/result_fixtures.h"

namespace scratchdet::report {
namespace {

namespace fs = std::filesystem;
using testing::FixtureRun;
using testing::MakeResult;
using testing::WriteResult;
using testing::WriteText;

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The Markdown line of a table that contains `needle` ("" when none).
std::string LineWith(const std::string& text, const std::string& needle) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line))
    if (line.find(needle) != std::string::npos) return line;
  return "";
}

void Ok(const std::string& root, const std::string& table, const std::string& name, int seed,
        double map) {
  FixtureRun run{"mini", table, name, seed, "ok", map, ""};
  WriteResult(root, run, MakeResult(run));
}

std::string PlotScript() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  return std::string(srcdir ? srcdir : ".") + "/scratchdet/reports/plot.py";
}

bool MatplotlibAvailable() {
  return std::system("/usr/bin/python3 -c 'import matplotlib' >/dev/null 2>&1") == 0;
}

class ReportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new std::string(testing::FreshDir("report_results"));
    const std::string& root = *root_;
    // Table A. nobn_lr0.001: 50, 52, 57 -> mean 53.0, std sqrt(13) = 3.6 (n=3).
    Ok(root, "A", "nobn_lr0.001", 0, 0.50);
    Ok(root, "A", "nobn_lr0.001", 1, 0.52);
    Ok(root, "A", "nobn_lr0.001", 2, 0.57);
    // bn_head_lr0.001: 58, 60, 62 -> 60.0 +- 2.0.
    Ok(root, "A", "bn_head_lr0.001", 0, 0.58);
    Ok(root, "A", "bn_head_lr0.001", 1, 0.60);
    Ok(root, "A", "bn_head_lr0.001", 2, 0.62);
    // bn_head_lr0.01: 50, 51, 49 -> 50.0 +- 1.0 (worse than lr 0.001: claim 2c disagrees).
    Ok(root, "A", "bn_head_lr0.01", 0, 0.50);
    Ok(root, "A", "bn_head_lr0.01", 1, 0.51);
    Ok(root, "A", "bn_head_lr0.01", 2, 0.49);
    // One seed each: claim 2a by sign only.
    Ok(root, "A", "bn_backbone_lr0.001", 0, 0.55);
    Ok(root, "A", "bn_backbone_lr0.01", 0, 0.65);
    // bn_both_lr0.05 diverged on both seeds; bn_both_lr0.001 finite.
    for (int seed : {0, 1}) {
      FixtureRun run{"mini",
                     "A",
                     "bn_both_lr0.05",
                     seed,
                     "diverged",
                     std::nullopt,
                     "non-finite loss at iteration 37 (lr 0.05)"};
      WriteResult(root, run, MakeResult(run));
    }
    Ok(root, "A", "bn_both_lr0.001", 0, 0.40);
    Ok(root, "A", "bn_both_lr0.001", 1, 0.42);
    {
      FixtureRun run{"mini", "A", "nobn_lr0.05", 0, "failed", std::nullopt, "out of memory"};
      WriteResult(root, run, MakeResult(run));
    }
    // A full-resolution curves.csv beside nobn_lr0.001 seed 0.
    WriteText(fs::path(testing::ResultPath(root, {"mini", "A", "nobn_lr0.001", 0}))
                  .replace_filename("curves.csv"),
              "iteration,loss,loc,conf,grad_norm,grad_delta,lr\n"
              "1,20,8,12,5,0,0.001\n2,18,7,11,4,1,0.001\n3,17,6,11,4.5,0.5,0.001\n");
    {
      nlohmann::json result = MakeResult({"mini", "A", "nobn_lr0.001", 0, "ok", 0.50});
      result["metrics"]["curves_csv"] = "curves.csv";
      WriteResult(root, {"mini", "A", "nobn_lr0.001", 0}, result);
    }

    // Broken files, each skipped with its reason.
    WriteText(testing::ResultPath(root, {"mini", "A", "bn_both_lr0.01", 0}), "not json at all");
    {
      const std::string full = MakeResult({"mini", "A", "bn_head_lr0.05", 0, "ok", 0.5}).dump();
      WriteText(testing::ResultPath(root, {"mini", "A", "bn_head_lr0.05", 0}),
                full.substr(0, full.size() / 2));
    }
    {
      nlohmann::json result = MakeResult({"mini", "B", "vgg16_pretrained", 0, "ok", 0.7});
      result.erase("seed");
      WriteResult(root, {"mini", "B", "vgg16_pretrained", 0}, result);
    }
    {
      nlohmann::json result = MakeResult({"mini", "B", "vgg16_scratch", 0, "ok", 0.5});
      result["metrics"]["mAP"] = "0.5";
      WriteResult(root, {"mini", "B", "vgg16_scratch", 0}, result);
    }
    {
      FixtureRun run{"mini", "A", "bn_both_lr0.01", 1, "running", std::nullopt, ""};
      WriteResult(root, run, MakeResult(run));
    }

    // Table B: scratch vs pretrained, no significant difference (claim 7 is >=).
    Ok(root, "B", "vgg16_bn_scratch", 0, 0.70);
    Ok(root, "B", "vgg16_bn_scratch", 1, 0.71);
    Ok(root, "B", "vgg16_bn_pretrained", 0, 0.70);
    Ok(root, "B", "vgg16_bn_pretrained", 1, 0.72);
    // Table C: missing entirely.
    // Table D.
    Ok(root, "D", "scratchdet300", 0, 0.66);
    Ok(root, "D", "scratchdet300", 1, 0.68);
    Ok(root, "D", "root_resnet18", 0, 0.65);
    Ok(root, "D", "root_resnet18", 1, 0.655);
    Ok(root, "D", "root_resnet34_ssd_extras", 0, 0.60);
    {
      FixtureRun run{"mini", "D", "root_resnet34_ssd_extras", 1, "diverged", std::nullopt, ""};
      WriteResult(root, run, MakeResult(run));
    }
    // Table E: a COCO-metric run, its headline is COCO AP.
    {
      nlohmann::json result = MakeResult({"mini", "E", "scratchdet300_coco", 0, "ok", 0.25});
      result["metrics"]["coco"] = {{"AP", 0.2},   {"AP50", 0.4}, {"AP75", 0.18},
                                   {"APs", 0.05}, {"APm", 0.22}, {"APl", 0.3}};
      WriteResult(root, {"mini", "E", "scratchdet300_coco", 0}, result);
    }
    // Another profile's results, also a broken one: not part of the mini report.
    {
      FixtureRun run{"paper", "A", "nobn_lr0.001", 0, "ok", 0.9, ""};
      WriteResult(root, run, MakeResult(run));
      WriteText(testing::ResultPath(root, {"paper", "A", "nobn_lr0.01", 0}), "{");
    }

    ReportOptions options;
    options.results_root = root;
    options.out_dir = root + "/mini/report";
    options.profile = "mini";
    options.plot_script = PlotScript();
    options.generated_at = "fixture time";
    outcome_ = new ReportOutcome(WriteReport(options));
  }

  static std::string Out(const std::string& file) { return Read(*root_ + "/mini/report/" + file); }

  static std::string* root_;
  static ReportOutcome* outcome_;
};

std::string* ReportTest::root_ = nullptr;
ReportOutcome* ReportTest::outcome_ = nullptr;

TEST_F(ReportTest, WritesEveryTableFile) {
  for (const char* file : {"table_a.md", "table_b.md", "table_c.md", "table_d.md", "table_e.md",
                           "tables.md", "report.html"})
    EXPECT_TRUE(fs::exists(*root_ + "/mini/report/" + file)) << file;
  // A 16 (one failed), B 4, D 6, E 1; the broken, running and paper-profile files are not.
  EXPECT_EQ(outcome_->runs, 27);
}

TEST_F(ReportTest, MeanStdAndDeltaWorkedByHand) {
  const std::string a = Out("table_a.md");
  // 50, 52, 57: mean 53.0, sample std sqrt(13) = 3.61; 53.0 - 67.6 = -14.6.
  EXPECT_NE(LineWith(a,
                     "| no BN, lr 0.001 | nobn_lr0.001 | 67.6 | 53.0 ± 3.6 (n=3) | -14.6 | "
                     "ok 3/3 |"),
            "")
      << a;
  // Links to the run folders, relative to the report folder.
  EXPECT_NE(LineWith(a, "[seed0](../table_a/nobn_lr0.001/seed0/) [seed1]"), "") << a;
  // 58, 60, 62 against 71.0.
  EXPECT_NE(LineWith(a, "| bn_head_lr0.001 | 71.0 | 60.0 ± 2.0 (n=3) | -11.0 |"), "") << a;
  // n=1: no std; n/r paper value has no difference.
  EXPECT_NE(LineWith(a, "| bn_backbone_lr0.01 | 77.8 | 65.0 (n=1) | -12.8 |"), "") << a;
  EXPECT_NE(LineWith(a, "| bn_both_lr0.001 | n/r | 41.0 ± 1.4 (n=2) | — |"), "") << a;
  // Table A grid as in the paper.
  EXPECT_NE(LineWith(a,
                     "| no | yes | 71.0 / 60.0 ± 2.0 (n=3) | 75.6 / 50.0 ± 1.0 (n=3) | "
                     "n/r / missing |"),
            "")
      << a;
}

TEST_F(ReportTest, DivergedAndFailedRunsAreNeverShownAsNumbers) {
  const std::string a = Out("table_a.md");
  const std::string diverged = LineWith(a, "| bn_both_lr0.05 |");
  EXPECT_NE(diverged.find("| 78.7 | diverged (2/2) | — | diverged (2/2) |"), std::string::npos)
      << diverged;
  EXPECT_EQ(diverged.find("| 0.0"), std::string::npos) << diverged;
  EXPECT_NE(diverged.find("[seed1 (diverged)](../table_a/bn_both_lr0.05/seed1/)"),
            std::string::npos);
  EXPECT_NE(LineWith(a, "bn_both_lr0.05 seed0: diverged — non-finite loss at iteration 37"), "");
  const std::string failed = LineWith(a, "| nobn_lr0.05 |");
  EXPECT_NE(failed.find("| n/r | failed | — | failed (1/1) |"), std::string::npos) << failed;
  EXPECT_NE(LineWith(a, "nobn_lr0.05 seed0: failed — out of memory"), "");
  // A partly diverged experiment: the finite seed is the number, the status says the rest.
  const std::string d = Out("table_d.md");
  EXPECT_NE(LineWith(d,
                     "| root_resnet34_ssd_extras | n/r | 60.0 (n=1) | — | ok 1/2; diverged "
                     "(1/2) |"),
            "")
      << d;
}

TEST_F(ReportTest, MissingTableShowsEveryRowMissing) {
  const std::string c = Out("table_c.md");
  EXPECT_NE(LineWith(c, "| resnet18 | 73.1 | missing | — | missing | — |"), "") << c;
  EXPECT_NE(LineWith(c,
                     "| 4 | stride 1 > stride 2 | C/resnet18_b > C/resnet18_a | missing | "
                     "missing | — | missing"),
            "")
      << c;
}

TEST_F(ReportTest, CocoRowUsesCocoAp) {
  const std::string e = Out("table_e.md");
  EXPECT_NE(LineWith(e, "| scratchdet300_coco | 32.7 | 20.0 (n=1) | -12.7 |"), "") << e;
  EXPECT_NE(LineWith(e, "| AP50 | 52.0 | 40.0 (n=1) |"), "") << e;
  EXPECT_NE(LineWith(e, "| scratchdet300_voc | 80.4 | missing |"), "") << e;
}

TEST_F(ReportTest, BadFilesAreSkippedByNameWithTheReason) {
  const std::string all = Out("tables.md");
  EXPECT_NE(LineWith(all, "bn_both_lr0.01/seed0/result.json: not valid JSON"), "") << all;
  EXPECT_NE(LineWith(all, "bn_head_lr0.05/seed0/result.json: not valid JSON"), "") << all;
  EXPECT_NE(LineWith(all, "vgg16_pretrained/seed0/result.json: missing field 'seed'"), "") << all;
  EXPECT_NE(LineWith(all,
                     "vgg16_scratch/seed0/result.json: status is ok but metrics.mAP is "
                     "\"0.5\""),
            "")
      << all;
  EXPECT_NE(LineWith(all, "bn_both_lr0.01/seed1/result.json: status.state is 'running'"), "");
  EXPECT_EQ(outcome_->skipped.size(), 5u);
  // The paper profile's broken file is not this report's business.
  EXPECT_EQ(all.find("nobn_lr0.01/seed0"), std::string::npos);
}

TEST_F(ReportTest, DirectionVerdicts) {
  const std::string all = Out("tables.md");
  // 1: {58,60,62} vs {50,52,57}: t = 7/sqrt(17/3) = 2.94, df = 578/185 = 3.12, p = 0.029
  // (scipy ttest_ind(..., equal_var=False, alternative='greater') gives 0.02876).
  const std::string c1 = LineWith(all, "| 1 | BN in head > no BN |");
  EXPECT_NE(c1.find("Welch t=2.94, df=3.12, one-sided p=0.029"), std::string::npos) << c1;
  EXPECT_NE(c1.find("| agree (left significantly better) |"), std::string::npos) << c1;
  // 2c: {50,51,49} vs {58,60,62}: significantly the other way.
  EXPECT_NE(LineWith(all, "| 2c |").find("| disagree (right significantly better"),
            std::string::npos);
  // 2a: one seed each.
  const std::string c2a = LineWith(all, "| 2a |");
  EXPECT_NE(c2a.find("n=1: no test, sign only"), std::string::npos) << c2a;
  EXPECT_NE(c2a.find("| agree ("), std::string::npos) << c2a;
  // 2b: the left side diverged: worse than any finite mAP.
  const std::string c2b = LineWith(all, "| 2b |");
  EXPECT_NE(c2b.find("a diverged run counts as worse than any finite mAP"), std::string::npos);
  EXPECT_NE(c2b.find("| disagree ("), std::string::npos) << c2b;
  // 6: {66,68} vs {65,65.5}: p = 0.159, not significant.
  const std::string c6 = LineWith(all, "| 6 |");
  EXPECT_NE(c6.find("p=0.159"), std::string::npos) << c6;
  EXPECT_NE(c6.find("| not significant ("), std::string::npos) << c6;
  // 7 (>=): {70,71} vs {70,72}, p(left > right) = 0.644: agrees, no significant difference.
  EXPECT_NE(LineWith(all, "| 7 |").find("| agree (no significant difference"), std::string::npos);
  // 8 (>=): the right side has a diverged seed.
  EXPECT_NE(LineWith(all, "| 8 |").find("| agree ("), std::string::npos);
  EXPECT_NE(LineWith(all, "| 3 |").find("| missing ("), std::string::npos);
  // 9: bn_backbone_lr0.001 (55, n=1) vs nobn_lr0.001 (53.0, n=3): sign only, agrees.
  EXPECT_NE(LineWith(all, "| 9 |").find("n=1: no test, sign only (n=1 vs n=3)"), std::string::npos);
  EXPECT_NE(LineWith(all, "5 agree, 2 disagree, 1 not significant, 3 missing."), "") << all;
  ASSERT_EQ(outcome_->verdicts.size(), 11u);
  EXPECT_EQ(outcome_->verdicts[0],
            "1 BN in head > no BN (A/bn_head_lr0.001 > A/nobn_lr0.001): agree (left significantly "
            "better) — Welch t=2.94, df=3.12, one-sided p=0.029 (H1: left > right), alpha 0.05");
}

TEST_F(ReportTest, HtmlIsSelfContainedWithPlotsWhenMatplotlibIsThere) {
  const std::string html = Out("report.html");
  ASSERT_FALSE(html.empty());
  EXPECT_NE(html.find("<table>"), std::string::npos);
  EXPECT_NE(html.find("diverged (2/2)"), std::string::npos);
  if (MatplotlibAvailable()) {
    std::cout << "matplotlib available: checking the embedded plots\n";
    EXPECT_NE(html.find("<img alt=\"Table A optimisation"), std::string::npos);
    EXPECT_NE(html.find("src=\"data:image/png;base64,iVBORw0KGgo"), std::string::npos);
    EXPECT_NE(html.find("Precision-recall curves of D/scratchdet300 seed 1"), std::string::npos);
    EXPECT_TRUE(fs::exists(*root_ + "/mini/report/plots/per_class_ap_table_a.png"));
    EXPECT_NE(Out("tables.md").find("![Table A optimisation"), std::string::npos);
  } else {
    std::cout << "matplotlib not available: checking the report says so\n";
    EXPECT_NE(html.find("plots are missing"), std::string::npos);
  }
}

TEST(ReportWithoutPlotsTest, MissingPythonStillWritesTheReportAndSaysWhy) {
  const std::string root = testing::FreshDir("report_no_python");
  Ok(root, "A", "nobn_lr0.001", 0, 0.5);
  ReportOptions options;
  options.results_root = root;
  options.out_dir = root + "/out";
  options.plot_script = PlotScript();
  options.python = root + "/no/such/python3";
  const ReportOutcome outcome = WriteReport(options);
  const std::string html = Read(root + "/out/report.html");
  EXPECT_NE(html.find("no/such/python3 not found: plots need Debian's"), std::string::npos)
      << html.substr(0, 4000);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(outcome.runs, 1);
}

TEST(ReportWithoutPlotsTest, MissingResultsFolderIsAnError) {
  ReportOptions options;
  options.results_root = "/nonexistent/results";
  options.out_dir = testing::FreshDir("report_missing_root");
  EXPECT_THROW(WriteReport(options), Error);
}

}  // namespace
}  // namespace scratchdet::report
