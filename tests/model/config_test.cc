#include "scratchdet/model/config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>

#include "scratchdet/core/error.h"
#include "tests/testing/temp_files.h"
#include "tests/testing/error_of.h"

namespace scratchdet::model {
namespace {

// The message of the Error `f` throws ("" when it does not throw).
using ::scratchdet::testing::ErrorOf;

void ExpectErrorNaming(const nlohmann::json& config, const std::string& needle) {
  const std::string error = ErrorOf([&] { ParseModelConfig(config); });
  EXPECT_NE(error.find(needle), std::string::npos)
      << config.dump() << " gave '" << error << "', expected it to mention '" << needle << "'";
}

TEST(ModelConfigTest, PresetsSetTheirFields) {
  const ModelConfig vgg = ParseModelConfig("ssd300_vgg16");
  EXPECT_EQ(vgg.backbone, "vgg16");
  EXPECT_EQ(vgg.bn_backbone, false);
  EXPECT_FALSE(vgg.bn_extras || vgg.bn_pred);

  const ModelConfig vgg_bn = ParseModelConfig("ssd300_vgg16_bn");
  EXPECT_EQ(vgg_bn.backbone, "vgg16_bn");
  EXPECT_TRUE(vgg_bn.bn_backbone.value() && vgg_bn.bn_extras && vgg_bn.bn_pred);

  const ModelConfig scratchdet = ParseModelConfig("scratchdet300");
  EXPECT_EQ(scratchdet.preset, "scratchdet300");
  EXPECT_EQ(scratchdet.backbone, "root_resnet34");
  EXPECT_EQ(scratchdet.extras, "residual");
  EXPECT_EQ(scratchdet.extras_tail, "paper");
  EXPECT_TRUE(scratchdet.bn_extras && scratchdet.bn_pred);

  const ModelConfig root18 = ParseModelConfig("scratchdet300_root18");
  EXPECT_EQ(root18.backbone, "root_resnet18");
  EXPECT_EQ(root18.extras, "ssd");
  EXPECT_EQ(ModelPresetNames().size(), 4u);
}

TEST(ModelConfigTest, PresetWithOverrides) {
  const ModelConfig c = ParseModelConfig(
      {{"preset", "scratchdet300"}, {"num_classes", 81}, {"extras_tail", "released"}});
  EXPECT_EQ(c.backbone, "root_resnet34");
  EXPECT_EQ(c.num_classes, 81);
  EXPECT_EQ(c.extras_tail, "released");
}

TEST(ModelConfigTest, ObjectWithoutPresetStartsFromTheDefaults) {
  const ModelConfig c = ParseModelConfig(
      {{"backbone", "resnet18_b"}, {"bn_extras", true}, {"width_multiplier", 0.25}});
  EXPECT_EQ(c.backbone, "resnet18_b");
  EXPECT_EQ(c.extras, "ssd");
  EXPECT_FALSE(c.bn_backbone.has_value());
  EXPECT_TRUE(c.bn_extras);
  EXPECT_FALSE(c.bn_pred);
  EXPECT_EQ(c.width_multiplier, 0.25);
  EXPECT_EQ(c.num_classes, 21);
}

TEST(ModelConfigTest, ToJsonRoundTrips) {
  ModelConfig c = ParseModelConfig({{"preset", "ssd300_vgg16"},
                                    {"bn_extras", true},
                                    {"num_classes", 5},
                                    {"width_multiplier", 0.5}});
  const ModelConfig again = ParseModelConfig(ToJson(c));
  EXPECT_EQ(ToJson(again), ToJson(c));
  EXPECT_EQ(again.num_classes, 5);
  EXPECT_TRUE(again.bn_extras);
}

TEST(ModelConfigTest, BadValuesNameTheKey) {
  ExpectErrorNaming({{"bakbone", "vgg16"}}, "unknown key 'bakbone'");
  ExpectErrorNaming({{"extras", "fpn"}}, "'extras' has unknown value 'fpn'; known: ssd, residual");
  ExpectErrorNaming({{"extras", "residual"}, {"extras_tail", "short"}}, "'extras_tail'");
  ExpectErrorNaming({{"extras", "ssd"}, {"extras_tail", "short"}}, "'extras_tail'");
  ExpectErrorNaming({{"width_multiplier", 0}}, "'width_multiplier' = 0 must be > 0");
  ExpectErrorNaming({{"width_multiplier", -1.5}}, "'width_multiplier' = -1.5 must be > 0");
  ExpectErrorNaming({{"width_multiplier", 0.001}}, "'width_multiplier' = 0.001 gives 0 channels");
  ExpectErrorNaming({{"width_multiplier", "big"}}, "'width_multiplier' must be a number");
  ExpectErrorNaming({{"num_classes", 1}}, "'num_classes' = 1 must be >= 2");
  ExpectErrorNaming({{"num_classes", 2.5}}, "'num_classes' must be an integer");
  ExpectErrorNaming({{"bn_pred", "yes"}}, "'bn_pred' must be true or false");
  ExpectErrorNaming({{"backbone", 3}}, "'backbone' must be a string");
  ExpectErrorNaming({{"prior_config", "ssd301"}}, "'prior_config'");
  ExpectErrorNaming("ssd300", "unknown preset 'ssd300'; known presets: ssd300_vgg16");
  ExpectErrorNaming({{"preset", "nope"}}, "unknown preset 'nope'");
  ExpectErrorNaming(nlohmann::json::array(), "expected a preset name or a JSON object");
}

TEST(ModelConfigTest, ScaledChannelsRoundsAndRejectsZero) {
  EXPECT_EQ(ScaledChannels(64, 0.25), 16);
  EXPECT_EQ(ScaledChannels(1024, 0.125), 128);
  EXPECT_EQ(ScaledChannels(64, 0.01), 1);  // 0.64 rounds to 1: the minimum
  EXPECT_NE(ErrorOf([] { ScaledChannels(64, 0.005); }).find("gives 0 channels"), std::string::npos);
}

TEST(ModelConfigTest, ReadModelConfigArgumentAcceptsPresetFileAndInlineJson) {
  EXPECT_EQ(ReadModelConfigArgument("scratchdet300"), nlohmann::json("scratchdet300"));
  EXPECT_EQ(ReadModelConfigArgument(R"({"backbone": "resnet18"})"),
            nlohmann::json({{"backbone", "resnet18"}}));
  const std::string path = ::scratchdet::testing::TempDir() + "/model.json";
  std::ofstream(path) << R"({"preset": "ssd300_vgg16", "num_classes": 3})";
  EXPECT_EQ(ParseModelConfig(ReadModelConfigArgument(path)).num_classes, 3);

  const std::string bad_path = ::scratchdet::testing::TempDir() + "/bad.json";
  std::ofstream(bad_path) << "{oops";
  EXPECT_NE(ErrorOf([&] { ReadModelConfigArgument(bad_path); }).find("bad.json: not valid JSON"),
            std::string::npos);
  EXPECT_NE(ErrorOf([] { ReadModelConfigArgument("{oops"); }).find("does not parse"),
            std::string::npos);
  EXPECT_NE(ErrorOf([] {
              ReadModelConfigArgument("no_such_thing");
            }).find("not inline JSON, not a readable file and not a preset"),
            std::string::npos);
}

}  // namespace
}  // namespace scratchdet::model
