#include "scratchdet/model/config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "scratchdet/box/prior_config.h"
#include "scratchdet/core/error.h"
#include "scratchdet/core/json_keys.h"

namespace scratchdet::model {

namespace {

const std::vector<std::string> kKeys = {
    "preset",    "backbone", "bn_backbone", "extras",           "extras_tail",
    "bn_extras", "bn_pred",  "num_classes", "width_multiplier", "prior_config"};
const std::vector<std::string> kExtras = {"ssd", "residual"};
const std::vector<std::string> kExtrasTails = {"paper", "released", "mmdet"};

// Presets (paper.md Tables B and D). "BN everywhere" = backbone, extras and prediction convs.
const std::vector<std::pair<std::string, nlohmann::json>>& Presets() {
  static const std::vector<std::pair<std::string, nlohmann::json>> presets = {
      {"ssd300_vgg16",
       {{"backbone", "vgg16"},
        {"bn_backbone", false},
        {"extras", "ssd"},
        {"bn_extras", false},
        {"bn_pred", false}}},
      {"ssd300_vgg16_bn",
       {{"backbone", "vgg16_bn"},
        {"bn_backbone", true},
        {"extras", "ssd"},
        {"bn_extras", true},
        {"bn_pred", true}}},
      {"scratchdet300",
       {{"backbone", "root_resnet34"},
        {"bn_backbone", true},
        {"extras", "residual"},
        {"extras_tail", "paper"},
        {"bn_extras", true},
        {"bn_pred", true}}},
      // Table C/D's Root-ResNet-18 SSD300 keeps the SSD-style extras (Table D contrasts
      // them with the residual extras only for Root-ResNet-34).
      {"scratchdet300_root18",
       {{"backbone", "root_resnet18"},
        {"bn_backbone", true},
        {"extras", "ssd"},
        {"bn_extras", true},
        {"bn_pred", true}}},
  };
  return presets;
}

std::string Show(const nlohmann::json& value) { return value.dump(); }

std::string GetString(const nlohmann::json& value, const std::string& key) {
  if (!value.is_string()) Fail("model config: key '{}' must be a string, got {}", key, Show(value));
  return value.get<std::string>();
}

bool GetBool(const nlohmann::json& value, const std::string& key) {
  if (!value.is_boolean())
    Fail("model config: key '{}' must be true or false, got {}", key, Show(value));
  return value.get<bool>();
}

void CheckOneOf(const std::string& value, const std::vector<std::string>& allowed,
                const std::string& key) {
  if (std::find(allowed.begin(), allowed.end(), value) == allowed.end())
    Fail("model config: key '{}' has unknown value '{}'; known: {}", key, value,
         fmt::join(allowed, ", "));
}

void ApplyObject(const nlohmann::json& object, ModelConfig& config) {
  std::vector<std::string> known(std::begin(kKeys), std::end(kKeys));
  known.push_back("preset");
  CheckKnownKeys(object, known, "model config");
  for (const auto& [key, value] : object.items()) {
    if (key == "preset") continue;
    if (key == "backbone") {
      config.backbone = GetString(value, key);
    } else if (key == "bn_backbone") {
      config.bn_backbone = GetBool(value, key);
    } else if (key == "extras") {
      config.extras = GetString(value, key);
    } else if (key == "extras_tail") {
      config.extras_tail = GetString(value, key);
    } else if (key == "bn_extras") {
      config.bn_extras = GetBool(value, key);
    } else if (key == "bn_pred") {
      config.bn_pred = GetBool(value, key);
    } else if (key == "num_classes") {
      if (!value.is_number_integer())
        Fail("model config: key 'num_classes' must be an integer, got {}", Show(value));
      config.num_classes = value.get<int64_t>();
    } else if (key == "width_multiplier") {
      if (!value.is_number())
        Fail("model config: key 'width_multiplier' must be a number, got {}", Show(value));
      config.width_multiplier = value.get<double>();
    } else if (key == "prior_config") {
      config.prior_config = GetString(value, key);
    }
  }
}

void Validate(const ModelConfig& config) {
  CheckOneOf(config.extras, kExtras, "extras");
  CheckOneOf(config.extras_tail, kExtrasTails, "extras_tail");
  if (config.num_classes < 2)
    Fail("model config: key 'num_classes' = {} must be >= 2 (background included)",
         config.num_classes);
  if (!(config.width_multiplier > 0) || !std::isfinite(config.width_multiplier))
    Fail("model config: key 'width_multiplier' = {} must be > 0", config.width_multiplier);
  // The smallest channel count scaled anywhere in the model is the 64-channel stem.
  ScaledChannels(64, config.width_multiplier);
  try {
    box::BuiltinPriorConfig(config.prior_config);
  } catch (const Error& e) {
    Fail("model config: key 'prior_config': {}", e.what());
  }
}

}  // namespace

int64_t ScaledChannels(int64_t channels, double width_multiplier) {
  const auto scaled = static_cast<int64_t>(std::lround(channels * width_multiplier));
  if (scaled < 1)
    Fail(
        "model config: key 'width_multiplier' = {} gives 0 channels for a {}-channel layer "
        "(needs >= {:.4g})",
        width_multiplier, channels, 0.5 / channels);
  return scaled;
}

std::vector<std::string> ModelPresetNames() {
  std::vector<std::string> names;
  for (const auto& [name, json] : Presets()) names.push_back(name);
  return names;
}

nlohmann::json ModelPresetJson(const std::string& name) {
  for (const auto& [preset, json] : Presets())
    if (preset == name) return json;
  Fail("model config: unknown preset '{}'; known presets: {}", name,
       fmt::join(ModelPresetNames(), ", "));
}

ModelConfig ParseModelConfig(const nlohmann::json& config_or_preset) {
  ModelConfig config;
  if (config_or_preset.is_string()) {
    config.preset = config_or_preset.get<std::string>();
    ApplyObject(ModelPresetJson(config.preset), config);
  } else if (config_or_preset.is_object()) {
    if (config_or_preset.contains("preset")) {
      config.preset = GetString(config_or_preset.at("preset"), "preset");
      ApplyObject(ModelPresetJson(config.preset), config);
    }
    ApplyObject(config_or_preset, config);
  } else {
    Fail("model config: expected a preset name or a JSON object, got {}", Show(config_or_preset));
  }
  Validate(config);
  return config;
}

nlohmann::json ToJson(const ModelConfig& config) {
  nlohmann::json json = {{"backbone", config.backbone},
                         {"extras", config.extras},
                         {"extras_tail", config.extras_tail},
                         {"bn_extras", config.bn_extras},
                         {"bn_pred", config.bn_pred},
                         {"num_classes", config.num_classes},
                         {"width_multiplier", config.width_multiplier},
                         {"prior_config", config.prior_config}};
  if (!config.preset.empty()) json["preset"] = config.preset;
  if (config.bn_backbone) json["bn_backbone"] = *config.bn_backbone;
  return json;
}

nlohmann::json ReadModelConfigArgument(const std::string& argument) {
  const auto first = argument.find_first_not_of(" \t\n");
  if (first != std::string::npos && (argument[first] == '{' || argument[first] == '"')) {
    try {
      return nlohmann::json::parse(argument);
    } catch (const nlohmann::json::parse_error& e) {
      Fail("model config: inline JSON '{}' does not parse: {}", argument, e.what());
    }
  }
  std::ifstream file(argument);
  if (file) {
    try {
      return nlohmann::json::parse(file);
    } catch (const nlohmann::json::parse_error& e) {
      Fail("model config: {}: not valid JSON: {}", argument, e.what());
    }
  }
  // Neither JSON nor a readable file: it must be a preset name.
  const auto names = ModelPresetNames();
  if (std::find(names.begin(), names.end(), argument) == names.end())
    Fail("model config '{}': not inline JSON, not a readable file and not a preset ({})", argument,
         fmt::join(names, ", "));
  return argument;
}

}  // namespace scratchdet::model
