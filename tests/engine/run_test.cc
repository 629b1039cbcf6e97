// End-to-end runs of the training engine on the smoke profile (seconds each).
#include "scratchdet/engine/run.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "scratchdet/core/atomic_file.h"
#include "scratchdet/core/error.h"
#include "scratchdet/engine/checkpoint.h"
#include "scratchdet/engine/train_config.h"
#include "scratchdet/model/ssd.h"
#include "tests/testing/temp_files.h"

namespace scratchdet::engine {
namespace {

using nlohmann::json;

using ::scratchdet::testing::TempDir;

TrainConfig SmokeConfig(const json& patch = json::object()) {
  json config = MergeConfig(ProfileDefaults("smoke"), patch, "test");
  config["model"] = {{"backbone", "vgg16_bn"}, {"extras", "ssd"}, {"bn_backbone", true},
                     {"bn_extras", true},      {"bn_pred", true}};
  config["threads"] = 1;  // exact resume compares bit-for-bit: one fixed thread count
  return ParseTrainConfig(config);
}

RunContext Context(const std::string& name) {
  RunContext c;
  c.run_dir = TempDir() + "/runs/" + name;
  c.cache_root = TempDir() + "/cache";
  c.profile = "smoke";
  c.quiet = true;
  c.fresh = true;
  return c;
}

json ReadResult(const RunContext& c) { return json::parse(ReadFile(c.run_dir + "/result.json")); }

// Every parameter and buffer of a run's final model.pt, by name.
std::map<std::string, torch::Tensor> LoadTensors(const RunContext& context) {
  model::SsdDetector detector = model::BuildDetector(ReadResult(context)["model"], 123);
  LoadWeights(context.run_dir + "/model.pt", *detector);
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : detector->named_parameters()) out[p.key()] = p.value();
  for (const auto& b : detector->named_buffers()) out[b.key()] = b.value();
  return out;
}

TEST(RunTest, SmokeRunWritesACompleteResult) {
  const RunContext context = Context("smoke");
  const json result = TrainAndEvaluate(SmokeConfig(), context);
  EXPECT_EQ(result, ReadResult(context));
  EXPECT_EQ(result["status"]["state"], "ok");
  const json& m = result["metrics"];
  ASSERT_TRUE(m["mAP"].is_number());
  EXPECT_GE(m["mAP"].get<double>(), 0.0);
  EXPECT_LE(m["mAP"].get<double>(), 1.0);
  EXPECT_EQ(m["iterations"], 8);
  EXPECT_EQ(m["per_class_ap"].size(), 10u);  // the shapes classes
  EXPECT_EQ(m["curves"]["loss"].size(), 8u);
  EXPECT_TRUE(std::isfinite(m["final_loss"].get<double>()));
  for (const char* key : {"git_commit", "compiler", "build_mode", "libtorch_version",
                          "opencv_version", "device", "threads", "host", "start_time", "end_time"})
    EXPECT_TRUE(result["provenance"].contains(key)) << key;
  EXPECT_EQ(result["config"]["seed"], 0);
  EXPECT_TRUE(std::filesystem::exists(context.run_dir + "/model.pt"));
  EXPECT_TRUE(std::filesystem::exists(context.run_dir + "/curves.csv"));
}

TEST(RunTest, InterruptedAndResumedRunEndsWithIdenticalWeights) {
  const TrainConfig config = SmokeConfig();
  const RunContext straight = Context("straight");
  TrainAndEvaluate(config, straight);

  RunContext split = Context("split");
  split.stop_after_iteration = 3;  // mid-epoch and between checkpoints (interval 4)
  const json first = TrainAndEvaluate(config, split);
  EXPECT_EQ(first["status"]["state"], "interrupted");
  split.stop_after_iteration = -1;
  split.fresh = false;
  const json resumed = TrainAndEvaluate(config, split);
  EXPECT_EQ(resumed["status"]["state"], "ok");
  EXPECT_EQ(resumed["resumed_from_iteration"], 3);

  const auto a = LoadTensors(straight);
  const auto b = LoadTensors(split);
  ASSERT_FALSE(a.empty());
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [key, tensor] : a) EXPECT_TRUE(torch::equal(tensor, b.at(key))) << key;
  EXPECT_EQ(ReadResult(straight)["metrics"]["curves"]["loss"],
            ReadResult(split)["metrics"]["curves"]["loss"]);
  EXPECT_EQ(ReadResult(straight)["metrics"]["mAP"], ReadResult(split)["metrics"]["mAP"]);
}

TEST(RunTest, DivergenceIsAResultNotACrash) {
  // No BN anywhere and an absurd learning rate: the loss must blow up within the run.
  json patch = {{"solver", {{"lr", 1e6}, {"warmup_iterations", 0}}}};
  json config = MergeConfig(ProfileDefaults("smoke"), patch, "test");
  config["model"] = {{"backbone", "vgg16"}, {"extras", "ssd"}};
  config["threads"] = 1;
  const RunContext context = Context("diverge");
  const json result = TrainAndEvaluate(ParseTrainConfig(config), context);
  EXPECT_EQ(result["status"]["state"], "diverged");
  EXPECT_NE(result["status"]["message"].get<std::string>().find("non-finite"), std::string::npos);
  EXPECT_TRUE(result["metrics"]["mAP"].is_null());
  EXPECT_GE(result["metrics"]["diverged_at_iteration"].get<int>(), 1);
  EXPECT_EQ(ReadResult(context)["status"]["state"], "diverged");
}

TEST(RunTest, FailureStillWritesTheResult) {
  json config = ProfileDefaults("smoke");
  config["data"]["format"] = "voc";
  config["data"]["root"] = TempDir() + "/no_such_dataset";
  const RunContext context = Context("failed");
  EXPECT_THROW(TrainAndEvaluate(ParseTrainConfig(config), context), Error);
  const json result = ReadResult(context);
  EXPECT_EQ(result["status"]["state"], "failed");
  EXPECT_NE(result["status"]["message"].get<std::string>().find("no_such_dataset"),
            std::string::npos);
}

}  // namespace
}  // namespace scratchdet::engine
