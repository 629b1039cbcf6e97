// `scratchdet priors`: prints a prior configuration's boxes as CSV, for inspection and for
// checking the prior count of a model's real feature maps (paper.md "Priors").
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "scratchdet/box/prior_config.h"
#include "scratchdet/box/priors.h"
#include "scratchdet/cli/command.h"
#include "scratchdet/core/error.h"

namespace scratchdet::cli {
namespace {

struct PriorsOptions {
  std::string config;
  std::string feature_maps;  // "38,19,10,5,3,1"; entries N (square) or HxW; empty: nominal
  int image_size = 0;        // 0: the config's nominal input size
};

// A positive integer spelled in decimal digits only, or -1.
int ParsePositive(const std::string& text) {
  if (text.empty() || text.size() > 6 || text.find_first_not_of("0123456789") != std::string::npos)
    return -1;
  const int value = std::stoi(text);
  return value > 0 ? value : -1;
}

std::vector<box::FeatureMapSize> ParseFeatureMaps(const std::string& list,
                                                  const box::PriorConfig& config) {
  std::vector<std::string> entries;
  size_t start = 0;
  while (true) {
    const size_t comma = list.find(',', start);
    entries.push_back(list.substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (static_cast<int>(entries.size()) != config.num_levels())
    Fail("--feature-maps '{}': {} maps, but prior config '{}' has {} levels", list, entries.size(),
         config.name, config.num_levels());
  std::vector<box::FeatureMapSize> maps;
  for (size_t i = 0; i < entries.size(); ++i) {
    const std::string& entry = entries[i];
    const size_t x = entry.find('x');
    const int height = ParsePositive(entry.substr(0, x));
    const int width = x == std::string::npos ? height : ParsePositive(entry.substr(x + 1));
    if (height < 0 || width < 0)
      Fail("--feature-maps '{}': map {} is '{}', expected a positive integer N (NxN) or HxW", list,
           i + 1, entry);
    maps.push_back({height, width});
  }
  return maps;
}

// The maps a plain strided network gives: ceil(image_size / step) per level.
std::vector<box::FeatureMapSize> NominalFeatureMaps(const box::PriorConfig& config,
                                                    int image_size) {
  std::vector<box::FeatureMapSize> maps;
  for (double step : config.steps) {
    const int size = static_cast<int>(std::ceil(image_size / step - 1e-9));
    maps.push_back({size, size});
  }
  return maps;
}

int Run(const PriorsOptions& options) {
  const box::PriorConfig config = box::BuiltinPriorConfig(options.config);
  const int image_size = options.image_size == 0 ? config.image_size : options.image_size;
  if (image_size <= 0) Fail("--image-size {}: expected a positive number of pixels", image_size);
  const std::vector<box::FeatureMapSize> maps =
      options.feature_maps.empty() ? NominalFeatureMaps(config, image_size)
                                   : ParseFeatureMaps(options.feature_maps, config);
  const torch::Tensor priors =
      box::GeneratePriors(config, maps, image_size, image_size).contiguous();
  const float* p = priors.data_ptr<float>();
  std::string csv = "cx,cy,w,h\n";
  for (int64_t i = 0; i < priors.size(0); ++i, p += 4)
    csv += fmt::format("{},{},{},{}\n", p[0], p[1], p[2], p[3]);
  std::fputs(csv.c_str(), stdout);
  return 0;
}

const CommandRegistrar kRegistrar(
    "priors",
    "print the prior boxes of a config as CSV (cx,cy,w,h normalised; a header line, then one "
    "prior a line in loss order)",
    [](CLI::App& app) {
      auto options = std::make_shared<PriorsOptions>();
      app.add_option(
             "--config", options->config,
             fmt::format("prior config ({})", fmt::join(box::BuiltinPriorConfigNames(), ", ")))
          ->required();
      app.add_option("--feature-maps", options->feature_maps,
                     "feature-map sizes per level, e.g. 38,19,10,5,3,1 or 38x38,...; default: "
                     "ceil(image size / step) per level");
      app.add_option("--image-size", options->image_size,
                     "input side in pixels; default: the config's nominal size");
      return [options] { return Run(*options); };
    });

}  // namespace
}  // namespace scratchdet::cli
