#include "scratchdet/report/result_file.h"

#include <gtest/gtest.h>

#include <cmath>

#include "scratchdet/core/error.h"
#include "scratchdet/report/result_tree.h"
#include "tests/reports/result_fixtures.h"

namespace scratchdet::report {
namespace {

using nlohmann::json;
using testing::FixtureRun;
using testing::MakeResult;

json Good() { return MakeResult({"mini", "A", "nobn_lr0.001", 2, "ok", 0.5}); }

// The reason ParseRunResult gives for `result`, "" when it is accepted.
std::string Reason(const json& result) {
  try {
    ParseRunResult(result, "r.json");
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

TEST(ResultFileTest, ReadsACompleteResult) {
  json result = Good();
  result["paper_value"] = 67.6;
  const RunResult run = ParseRunResult(result, "r.json");
  EXPECT_EQ(run.experiment, "nobn_lr0.001");
  EXPECT_EQ(run.table, "A");
  EXPECT_EQ(run.seed, 2);
  EXPECT_EQ(run.state, RunState::kOk);
  EXPECT_DOUBLE_EQ(*run.map, 0.5);
  EXPECT_DOUBLE_EQ(*run.paper_value, 67.6);
  ASSERT_EQ(run.per_class_ap.size(), 2u);
  EXPECT_EQ(run.per_class_ap[0].first, "circle");
  EXPECT_EQ(run.pr_curves.at("square").recall.size(), 3u);
  EXPECT_EQ(run.curves.iteration.size(), 4u);
  EXPECT_TRUE(run.warnings.empty());
}

TEST(ResultFileTest, NotRecoveredPaperValue) {
  json result = Good();
  result["paper_value"] = "n/r";
  const RunResult run = ParseRunResult(result, "r.json");
  EXPECT_TRUE(run.paper_value_present);
  EXPECT_FALSE(run.paper_value.has_value());
  result["paper_value"] = "75";
  EXPECT_EQ(Reason(result), "r.json: paper_value is \"75\", expected a number or \"n/r\"");
}

TEST(ResultFileTest, RequiredFieldsNameTheProblem) {
  json r = Good();
  r.erase("profile");
  EXPECT_EQ(Reason(r), "r.json: missing field 'profile'");
  r = Good();
  r["experiment"].erase("name");
  EXPECT_EQ(Reason(r), "r.json: missing field 'experiment.name'");
  r = Good();
  r["seed"] = 1.5;
  EXPECT_EQ(Reason(r), "r.json: seed is 1.5, expected an integer >= 0");
  r = Good();
  r["schema_version"] = 2;
  EXPECT_EQ(Reason(r), "r.json: schema_version is 2, expected 1");
  r = Good();
  r["status"]["state"] = "exploded";
  EXPECT_EQ(Reason(r),
            "r.json: status.state is 'exploded', expected ok, diverged, failed, interrupted or "
            "running");
  r = Good();
  r["status"] = "ok";
  EXPECT_EQ(Reason(r), "r.json: status is string, expected an object");
  r = Good();
  r["metrics"]["mAP"] = nullptr;
  EXPECT_EQ(Reason(r), "r.json: status is ok but metrics.mAP is null, expected a number in [0, 1]");
  r = Good();
  r["metrics"]["mAP"] = 51.2;  // a percentage where a fraction belongs
  EXPECT_EQ(Reason(r), "r.json: metrics.mAP is 51.2, expected a fraction in [0, 1]");
  r = Good();
  r["status"]["state"] = "running";
  EXPECT_EQ(Reason(r), "r.json: status.state is 'running': the run has not finished");
  r["status"]["state"] = "interrupted";
  EXPECT_EQ(Reason(r),
            "r.json: status.state is 'interrupted': the run stopped early; run it again to resume");
  EXPECT_EQ(Reason(json::array()), "r.json: top level is array, expected an object");
}

TEST(ResultFileTest, CocoMetricsSkipUndefinedValues) {
  json r = Good();
  r["metrics"]["coco"] = {{"AP", 0.25}, {"APs", -1.0}, {"per_category", {{"1", 0.3}}}};
  const RunResult run = ParseRunResult(r, "r.json");
  EXPECT_DOUBLE_EQ(run.coco.at("AP"), 0.25);
  EXPECT_EQ(run.coco.count("APs"), 0u);
  EXPECT_EQ(run.coco.count("per_category"), 0u);
}

TEST(ResultFileTest, DivergedAndFailedRunsNeedNoMap) {
  const RunResult diverged =
      ParseRunResult(MakeResult({"mini", "A", "x", 0, "diverged", std::nullopt, "nan"}), "r.json");
  EXPECT_EQ(diverged.state, RunState::kDiverged);
  EXPECT_FALSE(diverged.map.has_value());
  EXPECT_EQ(*diverged.diverged_at_iteration, 37);
  json failed = MakeResult({"mini", "A", "x", 0, "failed", std::nullopt, "boom"});
  failed.erase("metrics");
  EXPECT_EQ(ParseRunResult(failed, "r.json").message, "boom");
}

TEST(ResultFileTest, MalformedOptionalPartsBecomeWarnings) {
  json r = Good();
  r["metrics"]["per_class_ap"]["circle"] = "high";
  r["metrics"]["pr_curves"]["square"]["recall"] = {0.1};
  r["metrics"]["curves"]["loss"] = {1, 2};
  const RunResult run = ParseRunResult(r, "r.json");
  EXPECT_TRUE(run.per_class_ap.empty());
  EXPECT_EQ(run.pr_curves.count("square"), 0u);
  EXPECT_EQ(run.pr_curves.count("circle"), 1u);
  EXPECT_TRUE(run.curves.loss.empty());
  EXPECT_EQ(run.curves.grad_norm.size(), 4u);
  ASSERT_EQ(run.warnings.size(), 3u);
  EXPECT_EQ(run.warnings[0],
            "metrics.per_class_ap.circle is string, expected a number or null; per-class AP left "
            "out");
}

TEST(ResultFileTest, LoadNamesNotJsonTruncatedAndEmptyFiles) {
  const std::string dir = testing::FreshDir("result_file_load");
  const auto reason = [](const std::string& path) -> std::string {
    try {
      LoadRunResult(path);
      return "";
    } catch (const Error& e) {
      return e.what();
    }
  };
  const std::string text = Good().dump();
  EXPECT_EQ(reason(testing::WriteText(dir + "/empty.json", "")),
            dir + "/empty.json: file is empty");
  EXPECT_EQ(reason(testing::WriteText(dir + "/cut.json", text.substr(0, 40)))
                .rfind(dir + "/cut.json: not valid JSON", 0),
            0u);
  EXPECT_EQ(reason(dir + "/absent.json"), dir + "/absent.json: cannot be read");
  EXPECT_EQ(reason(testing::WriteText(dir + "/good.json", text)), "");
}

TEST(ResultFileTest, CurvesCsvStridesKeepsTheLastRowAndDerivesTheDelta) {
  const std::string dir = testing::FreshDir("curves_csv");
  std::string csv = "iteration,loss,grad_norm\n";
  for (int i = 1; i <= 10; ++i)
    csv += std::to_string(i) + "," + std::to_string(20 - i) + "," + std::to_string(i * i) + "\n";
  testing::WriteText(dir + "/curves.csv", csv);
  // 10 rows, at most 4 points: stride ceil(9/3) = 3 -> rows 1, 4, 7, 10.
  const TrainingCurves c = ReadCurvesCsv(dir + "/curves.csv", 4);
  EXPECT_EQ(c.iteration, (std::vector<double>{1, 4, 7, 10}));
  EXPECT_EQ(c.loss, (std::vector<double>{19, 16, 13, 10}));
  // |g_t - g_{t-1}| from consecutive rows (not from the strided ones): 16-9, 49-36, 100-81.
  ASSERT_EQ(c.grad_delta.size(), 4u);
  EXPECT_TRUE(std::isnan(c.grad_delta[0]));
  EXPECT_EQ(c.grad_delta[1], 7);
  EXPECT_EQ(c.grad_delta[3], 19);
  // 10 rows at most 3 points: stride ceil(9/2) = 5 -> rows 1, 6 and the last, 10.
  EXPECT_EQ(ReadCurvesCsv(dir + "/curves.csv", 3).iteration, (std::vector<double>{1, 6, 10}));
}

TEST(ResultFileTest, CurvesCsvErrorsNameTheLine) {
  const std::string dir = testing::FreshDir("curves_csv_bad");
  testing::WriteText(dir + "/a.csv", "iteration,loss\n1,2\n2,x\n");
  testing::WriteText(dir + "/b.csv", "iteration,loss\n1,2,3\n");
  testing::WriteText(dir + "/c.csv", "step,loss\n1,2\n");
  testing::WriteText(dir + "/d.csv", "iteration,loss\n1,nan\n");
  const auto reason = [&](const std::string& name) -> std::string {
    try {
      ReadCurvesCsv(dir + "/" + name, 100);
      return "";
    } catch (const Error& e) {
      return std::string(e.what()).substr(dir.size() + 1);
    }
  };
  EXPECT_EQ(reason("a.csv"), "a.csv:3: 'x' is not a number");
  EXPECT_EQ(reason("b.csv"), "b.csv:2: 3 fields, expected 2 as in the header");
  EXPECT_EQ(reason("c.csv"), "c.csv:1: header has no 'iteration' column");
  EXPECT_EQ(reason("d.csv"), "");  // a diverged run's NaN loss is data
}

TEST(ResultTreeTest, FieldsMustAgreeWithTheLayout) {
  const std::string root = testing::FreshDir("tree_layout");
  FixtureRun run{"mini", "A", "nobn_lr0.001", 1, "ok", 0.5};
  json wrong_seed = MakeResult(run);
  wrong_seed["seed"] = 4;
  testing::WriteResult(root, run, wrong_seed);
  FixtureRun other{"mini", "C", "resnet18", 0, "ok", 0.5};
  testing::WriteResult(root, other, MakeResult(other));
  // Outside the layout: attributed by its fields; a copy of the same run is a duplicate.
  testing::WriteText(root + "/copies/result.json", MakeResult(other).dump());
  // The lower-case folder spelling of the experiments/ packages is accepted too.
  FixtureRun lower{"mini", "D", "scratchdet300", 0, "ok", 0.7};
  testing::WriteText(root + "/mini/table_d/scratchdet300/seed0/result.json",
                     MakeResult(lower).dump());
  // A config variant (a run with --set overrides) is not one of the experiment's runs.
  testing::WriteText(root + "/mini/table_d/scratchdet300@0123abcd/seed0/result.json",
                     MakeResult(lower).dump());
  const ResultTree tree = ScanResults(root, "mini");
  ASSERT_EQ(tree.runs.size(), 2u);
  EXPECT_EQ(tree.runs[0].experiment, "resnet18");
  EXPECT_EQ(tree.runs[1].experiment, "scratchdet300");
  ASSERT_EQ(tree.skipped.size(), 2u);
  EXPECT_EQ(tree.skipped[0].reason,
            "fields disagree with the folder layout: seed 4 but the path says seed1");
  EXPECT_EQ(tree.skipped[1].reason, "a second result for table C resnet18 seed 0");
  EXPECT_EQ(tree.skipped[1].path, root + "/copies/result.json");
  EXPECT_THROW(ScanResults(root + "/absent", "mini"), Error);
}

}  // namespace
}  // namespace scratchdet::report
