#include "scratchdet/engine/experiment.h"

#include <gtest/gtest.h>

#include "scratchdet/core/atomic_file.h"
#include "scratchdet/core/error.h"
#include "scratchdet/engine/train_config.h"
#include "tests/testing/temp_files.h"

namespace scratchdet::engine {
namespace {

using nlohmann::json;

const char kExperiment[] = R"({
  "name": "bn_head_lr0.01", "table": "A", "row": "BN head, lr 0.01", "paper_value": 75.6,
  "config": {"model": {"backbone": "vgg16", "extras": "ssd", "bn_extras": true},
             "solver": {"lr": 0.01}},
  "profiles": {"mini": {"solver": {"iterations": 50}}}
})";

TEST(ExperimentTest, ResolutionOrderProfileThenExperimentThenProfilePatchThenFlags) {
  const Experiment e = ParseExperiment(kExperiment);
  ExperimentRequest r;
  r.profile = "mini";
  r.overrides = {"solver.batch_size=4", "data.shapes.seed=11"};
  r.device = "cpu";
  r.threads = 1;
  const json c = ResolveConfig(e, r, 3);
  EXPECT_EQ(c["solver"]["lr"], 0.01);              // experiment config
  EXPECT_EQ(c["solver"]["iterations"], 50);        // experiment's mini patch
  EXPECT_EQ(c["solver"]["batch_size"], 4);         // --set
  EXPECT_EQ(c["data"]["shapes"]["seed"], 11);      // --set, nested
  EXPECT_EQ(c["solver"]["momentum"], 0.9);         // profile default
  EXPECT_EQ(c["seed"], 3);
  EXPECT_EQ(c["run"]["threads"], 1);
  EXPECT_EQ(c["model"]["backbone"], "vgg16");
  EXPECT_NO_THROW(ParseTrainConfig(c));
  r.profile = "paper";
  EXPECT_EQ(ResolveConfig(e, r, 0)["solver"]["iterations"], 100000);
}

// One resolution for both entry points (config_flags.h): --config comes after the
// experiment's layers and before --set; `scratchdet train --config <the experiment's config>`
// resolves to the experiment binary's config.
TEST(ExperimentTest, ConfigFileSitsBetweenTheExperimentAndSetAndTrainResolvesTheSame) {
  const Experiment e = ParseExperiment(kExperiment);
  ExperimentRequest r;
  r.profile = "mini";
  r.config_file = ::scratchdet::testing::WriteTemp(
      "patch.json", R"({"solver": {"lr": 0.02, "iterations": 70, "batch_size": 2}})");
  r.overrides = {"solver.batch_size=4"};
  const json c = ResolveConfig(e, r, 0);
  EXPECT_EQ(c["solver"]["lr"], 0.02);          // the file over the experiment's 0.01
  EXPECT_EQ(c["solver"]["iterations"], 70);    // the file over the experiment's mini patch
  EXPECT_EQ(c["solver"]["batch_size"], 4);     // --set over the file

  ConfigFlags train;  // scratchdet train --profile mini --config <experiment's layers>
  train.profile = "mini";
  json layers = MergeConfig(ProfileDefaults("mini"), e.config, "test");
  layers = MergeConfig(layers, e.profiles["mini"], "test");
  train.config_file = ::scratchdet::testing::WriteTemp("experiment_as_file.json", layers.dump());
  ExperimentRequest plain;
  plain.profile = "mini";
  EXPECT_EQ(ResolveConfigJson(train, {}, 5), ResolveConfig(e, plain, 5));

  r.config_file = ::scratchdet::testing::WriteTemp("typo.json", R"({"solver": {"lrr": 1}})");
  try {
    ResolveConfig(e, r, 0);
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("unknown key 'lrr'"), std::string::npos)
        << error.what();
    EXPECT_NE(std::string(error.what()).find("typo.json"), std::string::npos) << error.what();
  }
  // A config file that changes the experiment makes a variant: its own run directory.
  r.config_file = ::scratchdet::testing::WriteTemp("lr.json", R"({"solver": {"lr": 0.03}})");
  r.overrides.clear();
  r.results_root = "/r";
  EXPECT_NE(RunDirectory(e, r, 0).find("/bn_head_lr0.01@"), std::string::npos);
}

TEST(ExperimentTest, RunDirectoryIsLowerCaseTable) {
  const Experiment e = ParseExperiment(kExperiment);
  ExperimentRequest r;
  r.results_root = "/r";
  r.profile = "smoke";
  EXPECT_EQ(RunDirectory(e, r, 2), "/r/smoke/table_a/bn_head_lr0.01/seed2");
}

// Issue 15: two configs never share a run directory. --set values that change the comparable
// config make a variant directory named by the config hash; values equal to the experiment's
// own, and speed-only keys, keep the experiment's directory.
TEST(ExperimentTest, OverridesThatChangeTheConfigGetTheirOwnDirectory) {
  const Experiment e = ParseExperiment(kExperiment);
  ExperimentRequest r;
  r.results_root = "/r";
  r.profile = "smoke";
  r.overrides = {"solver.lr=0.01", "run.threads=1", "run.checkpoint_interval=3"};
  EXPECT_EQ(RunDirectory(e, r, 0), "/r/smoke/table_a/bn_head_lr0.01/seed0");
  r.overrides = {"solver.lr=0.02"};
  const std::string variant = RunDirectory(e, r, 0);
  EXPECT_NE(variant.find("/r/smoke/table_a/bn_head_lr0.01@"), std::string::npos) << variant;
  EXPECT_EQ(variant.size(), std::string("/r/smoke/table_a/bn_head_lr0.01@12345678/seed0").size());
  r.overrides = {"solver.lr=0.020"};
  EXPECT_EQ(RunDirectory(e, r, 0), variant);  // same value, same directory
  r.overrides = {"solver.lr=0.03"};
  EXPECT_NE(RunDirectory(e, r, 0), variant);
}

TEST(ExperimentTest, BadExperimentFilesAreRefused) {
  EXPECT_THROW(ParseExperiment("{"), Error);
  EXPECT_THROW(ParseExperiment(R"({"table": "A", "paper_value": 1})"), Error);  // no name
  EXPECT_THROW(ParseExperiment(R"({"name": "x", "table": "A", "paper_value": "?"})"), Error);
  EXPECT_THROW(ParseExperiment(R"({"name": "x", "table": "A", "paper_value": 1, "cfg": {}})"),
               Error);
  EXPECT_THROW(
      ParseExperiment(R"({"name": "x", "table": "A", "paper_value": 1, "profiles": {"huge": {}}})"),
      Error);
  const Experiment e = ParseExperiment(kExperiment);
  ExperimentRequest r;
  r.overrides = {"solver.lr"};  // no '='
  EXPECT_THROW(ResolveConfig(e, r, 0), Error);
  r.overrides = {"solver.lerning_rate=1"};  // typo
  EXPECT_THROW(ResolveConfig(e, r, 0), Error);
}

TEST(ExperimentTest, OverridePatchParsesJsonOrString) {
  EXPECT_EQ(OverridePatch("a.b=0.5"), (json{{"a", {{"b", 0.5}}}}));
  EXPECT_EQ(OverridePatch("model=scratchdet300"), (json{{"model", "scratchdet300"}}));
  EXPECT_EQ(OverridePatch("s=[1,2]"), (json{{"s", {1, 2}}}));
}

// A finished run is reused when only speed or bookkeeping settings differ (threads, logging,
// checkpoint interval), and trained again when anything that changes the result differs.
TEST(ExperimentTest, FinishedRunIsReusedUnlessTheResultWouldDiffer) {
  const Experiment e = ParseExperiment(R"({
    "name": "cache_probe", "table": "C", "row": "r", "paper_value": 1,
    "config": {"model": {"backbone": "resnet18", "extras": "residual"}}})");
  ExperimentRequest r;
  r.profile = "smoke";
  r.results_root = testing::TempDir() + "/cache_probe_results";
  r.cache_root = testing::TempDir() + "/cache_probe_shapes";
  r.threads = 1;
  r.fresh = true;
  r.overrides = {"solver.iterations=2", "run.checkpoint_interval=1", "run.log_interval=1"};
  ASSERT_EQ(RunExperimentCommand(e, r), 0);
  const std::string path = RunDirectory(e, r, 0) + "/result.json";
  const std::string first = ReadFile(path);

  r.fresh = false;
  r.threads = 2;
  r.overrides = {"solver.iterations=2", "run.checkpoint_interval=0", "run.log_interval=5"};
  ASSERT_EQ(RunExperimentCommand(e, r), 0);
  EXPECT_EQ(ReadFile(path), first);  // reused: not one byte rewritten

  r.overrides = {"solver.iterations=2", "solver.lr=0.02"};
  ASSERT_EQ(RunExperimentCommand(e, r), 0);
  const std::string other = RunDirectory(e, r, 0) + "/result.json";
  ASSERT_NE(other, path);  // another config: a directory of its own
  const json rerun = json::parse(ReadFile(other));
  EXPECT_EQ(rerun["config"]["solver"]["lr"], 0.02);  // trained with the new config
  EXPECT_EQ(rerun["resumed_from_iteration"], 0);
  EXPECT_EQ(ReadFile(path), first);  // the first run is untouched
}

}  // namespace
}  // namespace scratchdet::engine

namespace scratchdet::engine {
namespace {

// The same model and recipe in two tables (e.g. Root-ResNet-18 in Tables C and D): the second
// experiment takes over the first one's finished run instead of training it again.
TEST(ExperimentTest, AnotherExperimentsRunOfTheSameConfigIsReused) {
  const char* config = R"("config": {"model": {"backbone": "resnet18", "extras": "residual"}})";
  const Experiment c = ParseExperiment(std::string(R"({"name": "twin", "table": "C", "row": "r",
      "paper_value": 1, )") + config + "}");
  const Experiment d = ParseExperiment(std::string(R"({"name": "twin_d", "table": "D",
      "row": "r", "paper_value": 2, )") + config + "}");
  ExperimentRequest r;
  r.profile = "smoke";
  r.results_root = ::scratchdet::testing::FreshDir("twin_results");
  r.cache_root = ::scratchdet::testing::TempDir() + "/twin_shapes";
  r.threads = 1;
  r.overrides = {"solver.iterations=2"};
  ASSERT_EQ(RunExperimentCommand(c, r), 0);
  const json original = json::parse(ReadFile(RunDirectory(c, r, 0) + "/result.json"));

  ASSERT_EQ(RunExperimentCommand(d, r), 0);
  const std::string dir = RunDirectory(d, r, 0);
  const json reused = json::parse(ReadFile(dir + "/result.json"));
  EXPECT_EQ(reused["experiment"]["name"], "twin_d");
  EXPECT_EQ(reused["experiment"]["table"], "D");
  EXPECT_EQ(reused["paper_value"], 2);
  EXPECT_EQ(reused["reused_from"]["experiment"], "C/twin");
  EXPECT_EQ(reused["metrics"], original["metrics"]);
  EXPECT_EQ(reused["config_hash"], original["config_hash"]);
  EXPECT_EQ(ReadFile(dir + "/model.pt"), ReadFile(RunDirectory(c, r, 0) + "/model.pt"));

  // Another seed is another run: trained, not reused.
  r.seeds = {1};
  ASSERT_EQ(RunExperimentCommand(d, r), 0);
  EXPECT_FALSE(json::parse(ReadFile(RunDirectory(d, r, 1) + "/result.json"))
                   .contains("reused_from"));
  // --fresh trains even when a twin exists.
  r.seeds = {0};
  r.fresh = true;
  ASSERT_EQ(RunExperimentCommand(d, r), 0);
  EXPECT_FALSE(json::parse(ReadFile(dir + "/result.json")).contains("reused_from"));
}

}  // namespace
}  // namespace scratchdet::engine
