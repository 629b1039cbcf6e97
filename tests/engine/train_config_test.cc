#include "scratchdet/engine/train_config.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "scratchdet/core/error.h"
#include "scratchdet/engine/run_directory.h"

namespace scratchdet::engine {
namespace {

using nlohmann::json;

std::string ErrorOf(const json& j) {
  try {
    ParseTrainConfig(j);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(TrainConfigTest, ProfilesParseAndRoundTrip) {
  for (const std::string& profile : ProfileNames()) {
    const TrainConfig c = ParseTrainConfig(ProfileDefaults(profile));
    json again = ToJson(c);
    EXPECT_EQ(ToJson(ParseTrainConfig(again)), again) << profile;
  }
  const TrainConfig paper = ParseTrainConfig(ProfileDefaults("paper"));
  EXPECT_EQ(paper.solver.batch_size * paper.solver.accumulation_steps, 128);
  EXPECT_EQ(paper.solver.iterations, 100000);
  EXPECT_EQ(paper.solver.steps, (std::vector<int64_t>{40000, 75000, 90000}));
  EXPECT_EQ(paper.data.format, "voc");
  EXPECT_GT(paper.run.threads, 0);  // 0 resolves to the core count
  // mini is a scaled SSD300 (docs/mini.md): 96 px, objects of 0.25-0.9 of the side, the
  // ssd_mini96 priors; smoke and ci keep the documented benchmark's layout.
  const TrainConfig mini = ParseTrainConfig(ProfileDefaults("mini"));
  EXPECT_EQ(mini.input_size, 96);
  EXPECT_EQ(mini.data.shapes.min_size, 0.25);
  EXPECT_EQ(mini.data.shapes.max_size, 0.9);
  EXPECT_EQ(mini.data.shapes.max_objects, 4);
  EXPECT_EQ(mini.model_overrides.at("prior_config"), "ssd_mini96");
  EXPECT_EQ(mini.model_overrides.at("extras_tail"), "mmdet");
  EXPECT_EQ(mini.solver.lr, TrainConfig().solver.lr);  // the paper's lr values, unscaled
  const TrainConfig ci = ParseTrainConfig(ProfileDefaults("ci"));
  EXPECT_EQ(ci.data.shapes.min_size, 0.04);
  EXPECT_EQ(ci.data.shapes.max_objects, 6);
}

// Profiles are data: experiments/profiles/<name>.json, linked into the binaries. Every file
// there is a profile, named as its file, holding a description and a config patch.
TEST(TrainConfigTest, ProfilesAreTheJsonFilesBesideTheExperiments) {
  EXPECT_EQ(ProfileNames(), (std::vector<std::string>{"paper", "mini", "smoke", "ci"}));
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator("experiments/profiles")) {
    if (entry.path().extension() != ".json") continue;
    files.push_back(entry.path().stem().string());
    std::ifstream in(entry.path());
    const json file = json::parse(in);
    EXPECT_EQ(file.at("name"), entry.path().stem().string());
    EXPECT_TRUE(file.at("description").is_string());
    EXPECT_EQ(file.size(), 3u) << entry.path() << ": only name, description, config";
    // The linked profile is the file's patch over the built-in defaults.
    json expected = ToJson(TrainConfig{});
    expected["run"]["threads"] = 0;
    expected = MergeConfig(expected, file.at("config"), "test");
    EXPECT_EQ(ProfileDefaults(file.at("name")), expected) << entry.path();
  }
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, (std::vector<std::string>{"ci", "mini", "paper", "smoke"}));
}

TEST(TrainConfigTest, TheModelConfigIsTypedAndResolvedWithTheConfig) {
  json j = ProfileDefaults("mini");
  j["model"] = "scratchdet300";
  const TrainConfig c = ParseTrainConfig(j);
  EXPECT_EQ(c.model_config.preset, "scratchdet300");
  EXPECT_EQ(c.model_config.backbone, "root_resnet34");
  EXPECT_EQ(c.model_config.width_multiplier, 0.25);         // the mini profile's override
  EXPECT_EQ(c.model_config.prior_config, "ssd_mini96");
  const model::ModelConfig resolved = ResolveModelConfig(c, 11);
  EXPECT_EQ(resolved.num_classes, 11);
  EXPECT_EQ(resolved.backbone, "root_resnet34");
  EXPECT_THROW(ResolveModelConfig(c, 1), Error);            // no object class
  j["model_overrides"]["extras_tial"] = "mmdet";          // a typo: refused at resolution
  try {
    ParseTrainConfig(j);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown key 'extras_tial'"), std::string::npos)
        << e.what();
  }
}

TEST(TrainConfigTest, BadValuesNameTheKey) {
  json j = ProfileDefaults("smoke");
  j["solver"]["lr"] = -1;
  EXPECT_NE(ErrorOf(j).find("solver.lr"), std::string::npos);
  j = ProfileDefaults("smoke");
  j["solver"]["lr"] = "fast";
  EXPECT_NE(ErrorOf(j).find("solver.lr has the wrong type"), std::string::npos);
  j = ProfileDefaults("smoke");
  j["data"]["format"] = "imagenet";
  EXPECT_NE(ErrorOf(j).find("data.format"), std::string::npos);
  j = ProfileDefaults("smoke");
  j["solver"]["steps"] = {10, 5};
  EXPECT_NE(ErrorOf(j).find("solver.steps"), std::string::npos);
  j = ProfileDefaults("smoke");
  j["data"]["shapes"]["max_objects"] = 0;
  EXPECT_NE(ErrorOf(j).find("data.shapes.max_objects"), std::string::npos);
  j = ProfileDefaults("smoke");
  j["data"]["shapes"]["min_size"] = 1.5;
  EXPECT_NE(ErrorOf(j).find("data.shapes.min_size"), std::string::npos);
  j = ProfileDefaults("smoke");
  j["data"]["shapes"]["outline_probability"] = 1.5;
  EXPECT_NE(ErrorOf(j).find("data.shapes.outline_probability"), std::string::npos);
  j = ProfileDefaults("smoke");
  j["data"]["shapes"]["min_clutter"] = 5;
  j["data"]["shapes"]["max_clutter"] = 2;
  EXPECT_NE(ErrorOf(j).find("data.shapes.max_clutter"), std::string::npos);
  j = ProfileDefaults("smoke");
  j["memory_format"] = "nhwc";
  EXPECT_NE(ErrorOf(j).find("memory_format must be channels_last or contiguous"),
            std::string::npos);
  j = ProfileDefaults("smoke");
  j["device"] = "tpu";
  EXPECT_NE(ErrorOf(j).find("device"), std::string::npos);
  for (const char* bad : {"cudax", "cuda:", "cuda:1x"}) {  // torch::Device would backtrace
    j["device"] = bad;
    EXPECT_NE(ErrorOf(j).find("device must be cpu, cuda or cuda:N"), std::string::npos) << bad;
  }
}

// The paper's global batch of 128 whatever the number of processes: 32 x 4 accumulation on
// one, 32 x 2 on two, 32 x 1 on four; a split that does not divide is refused. Only a
// data-parallel config compares with solver.world_size, so one-process hashes stay as they were.
TEST(TrainConfigTest, ThePaperProfileKeepsItsGlobalBatchOnAnyWorldSize) {
  for (const auto& [world, steps] : std::vector<std::pair<int, int>>{{1, 4}, {2, 2}, {4, 1}}) {
    json j = ProfileDefaults("paper");
    j["solver"]["world_size"] = world;
    const TrainConfig c = ParseTrainConfig(j);
    EXPECT_EQ(c.solver.batch_size, 32);
    EXPECT_EQ(c.solver.accumulation_steps, steps) << world;
    EXPECT_EQ(ComparableConfig(ToJson(c))["solver"].contains("world_size"), world > 1);
  }
  json j = ProfileDefaults("paper");
  j["solver"]["world_size"] = 3;
  EXPECT_NE(ErrorOf(j).find("solver.global_batch_size must be a multiple of world size x batch "
                            "size = 3 x 32 (got 128)"),
            std::string::npos)
      << ErrorOf(j);
  const json mini = ComparableConfig(ToJson(ParseTrainConfig(ProfileDefaults("mini"))));
  EXPECT_FALSE(mini["solver"].contains("world_size"));
  EXPECT_FALSE(mini["solver"].contains("global_batch_size"));
}

// precision: fp32 by default and then outside the comparable config (earlier results keep
// their hashes); bf16 and fp16 are part of it. fp16 needs CUDA. The cuDNN switches are machine
// facts under "run".
TEST(TrainConfigTest, PrecisionAndDeterminismKeys) {
  const TrainConfig defaults = ParseTrainConfig(ProfileDefaults("smoke"));
  EXPECT_EQ(defaults.precision, "fp32");
  EXPECT_FALSE(defaults.run.cudnn_benchmark);
  EXPECT_FALSE(defaults.run.deterministic);
  EXPECT_FALSE(ComparableConfig(ToJson(defaults)).contains("precision"));
  json j = ProfileDefaults("smoke");
  j["precision"] = "bf16";
  j["run"]["cudnn_benchmark"] = true;
  j["run"]["deterministic"] = true;
  const TrainConfig bf16 = ParseTrainConfig(j);
  EXPECT_EQ(bf16.precision, "bf16");
  EXPECT_TRUE(bf16.run.cudnn_benchmark);
  EXPECT_TRUE(bf16.run.deterministic);
  EXPECT_EQ(ComparableConfig(ToJson(bf16)).at("precision"), "bf16");
  EXPECT_NE(ConfigHash(ToJson(bf16)), ConfigHash(ToJson(defaults)));
  // The cuDNN switches do not change what is compared.
  json switches_only = ProfileDefaults("smoke");
  switches_only["run"]["cudnn_benchmark"] = true;
  EXPECT_EQ(ConfigHash(ToJson(ParseTrainConfig(switches_only))), ConfigHash(ToJson(defaults)));
  j["precision"] = "fp8";
  EXPECT_NE(ErrorOf(j).find("precision must be fp32, bf16 or fp16 (got fp8)"), std::string::npos);
  j["precision"] = "fp16";
  EXPECT_NE(ErrorOf(j).find("fp16 (autocast with loss scaling) needs a CUDA device; use bf16 on "
                            "the CPU"),
            std::string::npos)
      << ErrorOf(j);
  j["device"] = "cuda:1";
  EXPECT_EQ(ParseTrainConfig(j).precision, "fp16");
}

TEST(TrainConfigTest, UnknownKeysAreRefusedAtEveryLevel) {
  // One checker (core/json_keys.h) for every object the parser reads.
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{}, "config: unknown key 'typo'"},
      {{"data"}, "config 'data': unknown key 'typo'"},
      {{"data", "shapes"}, "config 'data.shapes': unknown key 'typo'"},
      {{"solver"}, "config 'solver': unknown key 'typo'"},
      {{"eval"}, "config 'eval': unknown key 'typo'"},
      {{"pretrain"}, "config 'pretrain': unknown key 'typo'"}};
  for (const auto& [path, message] : cases) {
    json j = ProfileDefaults("smoke");
    json* object = &j;
    for (const std::string& key : path) object = &(*object)[key];
    (*object)["typo"] = 1;
    const std::string error = ErrorOf(j);
    EXPECT_NE(error.find(message), std::string::npos) << error;
    EXPECT_NE(error.find("(known: "), std::string::npos) << error;
  }
  try {
    MergeConfig(ProfileDefaults("mini"), {{"solvr", {{"lr", 1}}}}, "exp");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("config: exp: unknown key 'solvr'"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(MergeConfig(ProfileDefaults("mini"), {{"solver", {{"lrr", 1}}}}, "exp"), Error);
  EXPECT_THROW(ProfileDefaults("huge"), Error);
}

TEST(TrainConfigTest, MergePatchesNestedAndReplacesModel) {
  const json merged = MergeConfig(ProfileDefaults("mini"),
                                  {{"solver", {{"lr", 0.01}}},
                                   {"model", {{"preset", "ssd300_vgg16"}}}},
                                  "exp");
  EXPECT_EQ(merged["solver"]["lr"], 0.01);
  EXPECT_EQ(merged["solver"]["batch_size"], 8);   // untouched sibling kept
  EXPECT_EQ(merged["model"], (json{{"preset", "ssd300_vgg16"}}));
}

}  // namespace
}  // namespace scratchdet::engine
