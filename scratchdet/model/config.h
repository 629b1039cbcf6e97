// ModelConfig: the one JSON object that describes a detector (backbone, extras, head switches).
//
// Accepted forms, wherever a model config is read:
//   "scratchdet300"                                   a preset name
//   {"preset": "scratchdet300", "num_classes": 81}    a preset with overrides
//   {"backbone": "resnet18_b", "extras": "ssd", ...}  a full object (missing keys: defaults below)
// Unknown keys are errors, so a typo never silently falls back to a default.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace scratchdet::model {

struct ModelConfig {
  std::string preset;               // preset the config started from ("" = none)
  std::string backbone = "vgg16";   // a registered backbone name (backbone/backbone.h)
  std::optional<bool> bn_backbone;  // unset: the backbone's own default (vgg16: off)
  std::string extras = "ssd";       // "ssd" or "residual" (extras.h)
  std::string extras_tail =
      "paper";                    // "paper" (10,5,3,1), "released" (10,5,5,5), "mmdet" (10,5,3,3)
  bool bn_extras = false;         // BN after every conv of the extra layers
  bool bn_pred = false;           // loc/conf convs without bias, each followed by BN
  int64_t num_classes = 21;       // including background (label 0)
  double width_multiplier = 1.0;  // scales every channel count of backbone and extras
  std::string prior_config = "ssd300_voc";  // a box::BuiltinPriorConfig name
};

// Parses a preset name (JSON string) or an object (optionally with "preset"). Throws
// scratchdet::Error naming the offending key and the accepted values.
ModelConfig ParseModelConfig(const nlohmann::json& config_or_preset);

// Every key, resolved values only (bn_backbone is omitted while unset).
nlohmann::json ToJson(const ModelConfig& config);

// "ssd300_vgg16", "ssd300_vgg16_bn", "scratchdet300", "scratchdet300_root18".
std::vector<std::string> ModelPresetNames();
// The preset's JSON object; throws listing the known presets.
nlohmann::json ModelPresetJson(const std::string& name);

// A command-line model argument: inline JSON (starts with '{' or '"'), a path to a JSON file,
// or else a preset name. Throws naming the argument when the file or JSON is bad.
nlohmann::json ReadModelConfigArgument(const std::string& argument);

// round(channels * width_multiplier); throws naming width_multiplier when that is 0.
int64_t ScaledChannels(int64_t channels, double width_multiplier);

}  // namespace scratchdet::model
