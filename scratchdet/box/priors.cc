#include "scratchdet/box/priors.h"

#include <cmath>

#include "scratchdet/core/error.h"

namespace scratchdet::box {

namespace {

void CheckMaps(const PriorConfig& config, const std::vector<FeatureMapSize>& maps) {
  if (static_cast<int>(maps.size()) != config.num_levels())
    Fail("prior config '{}' has {} levels but the model gives {} feature maps", config.name,
         config.num_levels(), maps.size());
  for (size_t l = 0; l < maps.size(); ++l)
    if (maps[l].height <= 0 || maps[l].width <= 0)
      Fail("prior config '{}': feature map {} is empty ({}x{})", config.name, l, maps[l].height,
           maps[l].width);
}

// Normalised cell spacing along one axis (see priors.h).
double NormalisedStep(const PriorConfig& config, int level, int map_size) {
  const double step = config.steps[level];
  const int nominal = static_cast<int>(std::ceil(config.image_size / step - 1e-9));
  if (map_size == nominal) return step / config.image_size;
  return 1.0 / map_size;
}

}  // namespace

std::vector<int64_t> PriorLevelEnds(const PriorConfig& config,
                                    const std::vector<FeatureMapSize>& maps) {
  config.Validate();
  CheckMaps(config, maps);
  std::vector<int64_t> ends;
  int64_t end = 0;
  for (int l = 0; l < config.num_levels(); ++l) {
    end += static_cast<int64_t>(maps[l].height) * maps[l].width * config.priors_per_cell(l);
    ends.push_back(end);
  }
  return ends;
}

int64_t CountPriors(const PriorConfig& config, const std::vector<FeatureMapSize>& maps) {
  return PriorLevelEnds(config, maps).back();  // Validate() refuses a config without levels
}

torch::Tensor GeneratePriors(const PriorConfig& config, const std::vector<FeatureMapSize>& maps,
                             int input_height, int input_width) {
  const int64_t total = CountPriors(config, maps);
  if (input_height <= 0 || input_width <= 0)
    Fail("prior generation: input size {}x{} must be positive", input_height, input_width);
  std::vector<float> data;
  data.reserve(total * 4);
  // Box sizes are fractions of the input along each axis: inputs are warp-resized (SSD), so
  // a non-square input stretches priors exactly as it stretches the objects.
  for (int l = 0; l < config.num_levels(); ++l) {
    const double step_x = NormalisedStep(config, l, maps[l].width);
    const double step_y = NormalisedStep(config, l, maps[l].height);
    const double min_size = config.min_sizes[l] / config.image_size;
    // The second square prior has size sqrt(min * max) (SSD).
    const double big = config.max_sizes.empty()
                           ? 0.0
                           : std::sqrt(config.min_sizes[l] * config.max_sizes[l]) /
                                 config.image_size;
    for (int i = 0; i < maps[l].height; ++i) {
      for (int j = 0; j < maps[l].width; ++j) {
        const double cx = (j + 0.5) * step_x;
        const double cy = (i + 0.5) * step_y;
        auto push = [&](double w, double h) {
          double box[4] = {cx, cy, w, h};
          for (double v : box) {
            if (config.clip) v = std::min(1.0, std::max(0.0, v));
            data.push_back(static_cast<float>(v));
          }
        };
        push(min_size, min_size);
        if (!config.max_sizes.empty()) push(big, big);
        for (double r : config.aspect_ratios[l]) {
          const double root = std::sqrt(r);
          push(min_size * root, min_size / root);
          if (config.flip) push(min_size / root, min_size * root);
        }
      }
    }
  }
  return torch::from_blob(data.data(), {total, 4}, torch::kFloat32).clone();
}

}  // namespace scratchdet::box
