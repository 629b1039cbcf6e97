#include "scratchdet/report/paper_runner.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/reports/result_fixtures.h"

namespace scratchdet::report {
namespace {

namespace fs = std::filesystem;
using testing::FixtureRun;
using testing::MakeResult;
using testing::WriteResult;
using testing::WriteText;

std::string Runfile(const std::string& path) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  return std::string(srcdir ? srcdir : ".") + "/scratchdet/" + path;
}

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void Experiment(const std::string& dir, const std::string& table, const std::string& name) {
  std::string lower = table;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  WriteText(dir + "/table_" + lower + "/" + name + ".json",
            "{\"name\": \"" + name + "\", \"table\": \"" + table + "\", \"paper_value\": \"n/r\"}");
}

// An experiments/ folder and a results tree in which some seeds are done.
struct Fixture {
  std::string experiments;
  std::string results;
  std::string log;

  explicit Fixture(const std::string& name) {
    const std::string root = testing::FreshDir(name);
    experiments = root + "/experiments";
    results = root + "/results";
    log = root + "/fake.log";
    Experiment(experiments, "A", "nobn_lr0.001");
    Experiment(experiments, "A", "bn_head_lr0.001");
    Experiment(experiments, "C", "resnet18");
    Experiment(experiments, "C", "will_fail");
    WriteText(experiments + "/table_c/broken.json", "{\"name\": ");
    WriteText(experiments + "/table_c/wrong_name.json", "{\"name\": \"other\", \"table\": \"C\"}");
    WriteText(experiments + "/BUILD", "");
    // nobn: seed 0 ok (done), seed 1 failed and seed 2 running (both to run again).
    const auto put = [&](const std::string& experiment, int seed, const std::string& state) {
      FixtureRun run{"mini", "A", experiment, seed, state, 0.5, ""};
      WriteResult(results, run, MakeResult(run));
    };
    put("nobn_lr0.001", 0, "ok");
    put("nobn_lr0.001", 1, "failed");
    put("nobn_lr0.001", 2, "running");
    // bn_head: seed 0 diverged (a result: done); seed 1 truncated (to run again).
    put("bn_head_lr0.001", 0, "diverged");
    WriteText(results + "/mini/table_a/bn_head_lr0.001/seed1/result.json", "{\"schema_ver");
    // Another profile's results do not count for mini.
    FixtureRun paper{"paper", "C", "resnet18", 0, "ok", 0.7, ""};
    WriteResult(results, paper, MakeResult(paper));
    setenv("FAKE_EXPERIMENT_LOG", log.c_str(), 1);
  }

  RunnerOptions Options() const {
    RunnerOptions o;
    o.profile = "mini";
    o.seeds = {0, 1, 2};
    o.results_root = results;
    o.experiments_dir = experiments;
    o.workspace = fs::path(experiments).parent_path().string();
    o.launcher = Runfile("tests/reports/fake_experiment.sh");
    return o;
  }
};

TEST(PaperRunnerTest, ListsExperimentTargetsFromTheFolders) {
  Fixture f("runner_list");
  std::vector<std::string> problems;
  const auto targets = ListExperimentTargets(f.experiments, &problems);
  ASSERT_EQ(targets.size(), 4u);
  EXPECT_EQ(targets[0].label, "//experiments/table_a:bn_head_lr0.001");
  EXPECT_EQ(targets[0].table, "A");
  EXPECT_EQ(targets[3].label, "//experiments/table_c:will_fail");
  ASSERT_EQ(problems.size(), 2u);
  std::sort(problems.begin(), problems.end());
  EXPECT_NE(problems[0].find("broken.json: not valid JSON"), std::string::npos) << problems[0];
  EXPECT_NE(problems[1].find("wrong_name.json: name 'other' / table 'C' do not match"),
            std::string::npos)
      << problems[1];
}

TEST(PaperRunnerTest, PlansOnlySeedsWithoutAnOkOrDivergedResult) {
  Fixture f("runner_plan");
  std::vector<std::string> problems;
  const auto plan = PlanMissingRuns(ListExperimentTargets(f.experiments, &problems), f.results,
                                    "mini", {0, 1, 2});
  ASSERT_EQ(plan.size(), 4u);
  EXPECT_EQ(plan[0].target.name, "bn_head_lr0.001");
  EXPECT_EQ(plan[0].seeds, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(plan[1].target.name, "nobn_lr0.001");
  EXPECT_EQ(plan[1].seeds, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(plan[2].target.name, "resnet18");
  EXPECT_EQ(plan[2].seeds, (std::vector<int64_t>{0, 1, 2}));  // the paper-profile run is not mini's
  RunnerOptions o = f.Options();
  o.extra_args = {"--threads", "1"};
  EXPECT_EQ(ExperimentCommand(o, plan[1]),
            "cd '" + o.workspace + "' && " + o.launcher +
                " //experiments/table_a:nobn_lr0.001 -- --profile 'mini' --seed 1,2 --out '" +
                f.results + "' '--threads' '1'");
}

TEST(PaperRunnerTest, RunsTheMissingOnesAgainstAFakeExperiment) {
  Fixture f("runner_run");
  std::ostringstream log;
  const RunnerOutcome outcome = RunMissingExperiments(f.Options(), log);
  EXPECT_EQ(outcome.planned, 4);
  EXPECT_EQ(outcome.succeeded, 3);
  ASSERT_EQ(outcome.failed.size(), 1u);
  EXPECT_EQ(outcome.failed[0], "//experiments/table_c:will_fail: exit status 3");
  EXPECT_EQ(Read(f.log),
            "//experiments/table_a:bn_head_lr0.001 mini 1,2\n"
            "//experiments/table_a:nobn_lr0.001 mini 1,2\n"
            "//experiments/table_c:resnet18 mini 0,1,2\n"
            "//experiments/table_c:will_fail mini 0,1,2\n");
  EXPECT_TRUE(fs::exists(f.results + "/mini/table_c/resnet18/seed2/result.json"));
  // A second pass finds everything done except the experiment that fails.
  fs::remove(f.log);
  const RunnerOutcome again = RunMissingExperiments(f.Options(), log);
  EXPECT_EQ(again.planned, 1);
  EXPECT_EQ(Read(f.log), "//experiments/table_c:will_fail mini 0,1,2\n");
}

TEST(PaperRunnerTest, DryRunAndTableFilter) {
  Fixture f("runner_dry");
  RunnerOptions o = f.Options();
  o.dry_run = true;
  o.tables = {"C"};
  std::ostringstream log;
  const RunnerOutcome outcome = RunMissingExperiments(o, log);
  EXPECT_EQ(outcome.planned, 2);
  EXPECT_FALSE(fs::exists(f.log));
  EXPECT_NE(log.str().find("$ cd '"), std::string::npos);
  EXPECT_NE(log.str().find("//experiments/table_c:resnet18 seeds 0,1,2"), std::string::npos);
  EXPECT_EQ(log.str().find("table_a"), std::string::npos);
}

// The //reports:paper binary end to end: runs the fake experiments, then writes the report.
TEST(PaperRunnerTest, PaperBinaryRunsThenReports) {
  Fixture f("runner_binary");
  const std::string out = fs::path(f.results).parent_path().string() + "/report";
  const std::string command =
      Runfile("reports/paper") + " --profile mini --seeds 0,1" + " --results " + f.results +
      " --experiments " + f.experiments + " --out " + out + " --launcher " +
      Runfile("tests/reports/fake_experiment.sh") + " > " + out + ".log 2>&1";
  const int status = std::system(command.c_str());
  EXPECT_NE(status, 0) << "will_fail fails, so the exit status says so";
  const std::string console = Read(out + ".log");
  EXPECT_NE(console.find("4 experiments run (3 ok, 1 failed)"), std::string::npos) << console;
  const std::string a = Read(out + "/table_a.md");
  // nobn_lr0.001: seed 0 from the fixture (0.5) and seed 1 from the fake run (0.51).
  EXPECT_NE(a.find("| nobn_lr0.001 | 67.6 | 50.5 ± 0.7 (n=2) |"), std::string::npos) << a;
  EXPECT_TRUE(fs::exists(out + "/report.html"));
}

}  // namespace
}  // namespace scratchdet::report
