// Introspection of a built detector: parameters, MACs of one forward, sources and priors.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "scratchdet/model/ssd.h"

namespace scratchdet::model {

struct SourceShape {
  int64_t channels = 0;
  int height = 0;
  int width = 0;
};

struct ModelSummary {
  ModelConfig config;  // resolved
  int input_height = 0, input_width = 0;
  int64_t params = 0;  // trainable parameters
  int64_t macs = 0;    // conv multiply-accumulates for one image
  int64_t convs = 0;   // conv modules that ran (== conv modules in the model)
  std::vector<SourceShape> sources;
  int64_t priors = 0;
};

// Runs one no-grad forward of a zero image of height x width (eval mode, restored after) and
// counts conv MACs with MacCounter.
ModelSummary SummarizeModel(SsdDetectorImpl& model, int height, int width);

// {"config", "input_size": [h, w], "params", "macs", "gmacs", "sources": [{"channels",
// "height", "width"}], "priors"}.
nlohmann::json ToJson(const ModelSummary& summary);
// Human-readable table.
std::string FormatSummary(const ModelSummary& summary);

}  // namespace scratchdet::model
