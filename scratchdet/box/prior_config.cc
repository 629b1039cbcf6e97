#include "scratchdet/box/prior_config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "scratchdet/core/error.h"

namespace scratchdet::box {

int PriorConfig::priors_per_cell(int level) const {
  int n = 1;
  if (!max_sizes.empty()) n += 1;
  const int ratios = static_cast<int>(aspect_ratios.at(level).size());
  n += flip ? 2 * ratios : ratios;
  return n;
}

void PriorConfig::Validate() const {
  const size_t levels = min_sizes.size();
  if (levels == 0) Fail("prior config '{}': min_sizes is empty", name);
  if (steps.size() != levels)
    Fail("prior config '{}': {} steps for {} levels", name, steps.size(), levels);
  if (!max_sizes.empty() && max_sizes.size() != levels)
    Fail("prior config '{}': {} max_sizes for {} levels", name, max_sizes.size(), levels);
  if (aspect_ratios.size() != levels)
    Fail("prior config '{}': {} aspect_ratios lists for {} levels", name, aspect_ratios.size(),
         levels);
  if (variances.size() != 4) Fail("prior config '{}': variances must have 4 values", name);
  for (size_t i = 0; i < levels; ++i) {
    if (steps[i] <= 0) Fail("prior config '{}': steps[{}]={} must be > 0", name, i, steps[i]);
    if (min_sizes[i] <= 0)
      Fail("prior config '{}': min_sizes[{}]={} must be > 0", name, i, min_sizes[i]);
    if (!max_sizes.empty() && max_sizes[i] < min_sizes[i])
      Fail("prior config '{}': max_sizes[{}]={} < min_sizes[{}]={}", name, i, max_sizes[i], i,
           min_sizes[i]);
    for (double r : aspect_ratios[i])
      if (r <= 0) Fail("prior config '{}': aspect ratio {} at level {} must be > 0", name, r, i);
  }
  if (image_size <= 0) Fail("prior config '{}': image_size must be > 0", name);
}

namespace {

PriorConfig Ssd300(const std::string& name, std::vector<double> min_sizes,
                   std::vector<double> max_sizes) {
  PriorConfig c;
  c.name = name;
  c.image_size = 300;
  c.steps = {8, 16, 32, 64, 100, 300};
  c.min_sizes = std::move(min_sizes);
  c.max_sizes = std::move(max_sizes);
  c.aspect_ratios = {{2}, {2, 3}, {2, 3}, {2, 3}, {2}, {2}};
  return c;
}

PriorConfig Ssd512(const std::string& name, std::vector<double> min_sizes,
                   std::vector<double> max_sizes) {
  PriorConfig c;
  c.name = name;
  c.image_size = 512;
  c.steps = {8, 16, 32, 64, 128, 256, 512};
  c.min_sizes = std::move(min_sizes);
  c.max_sizes = std::move(max_sizes);
  c.aspect_ratios = {{2}, {2, 3}, {2, 3}, {2, 3}, {2, 3}, {2}, {2}};
  return c;
}

// The `mini` profile's priors (docs/mini.md, "Prior geometry"): SSD300's geometry relative to
// the feature-map grid, scaled to a 96-px input whose finest source has stride 8 (maps
// 12,6,3,2,1,1). SSD300's smallest prior is 30 px = 3.75 cells of its stride-8 map, and so is
// this one's (0.31 of the input); the sizes then grow geometrically to 0.9 of the input
// (SSD300: 0.1 to 0.88), with SSD300's aspect ratios per level. Objects of 0.25-0.9 of the
// side then have a prior with IoU >= 0.5 as VOC's 0.1-0.9 objects do under SSD300.
PriorConfig Mini96(const std::string& name) {
  PriorConfig c;
  c.name = name;
  c.image_size = 96;
  c.steps = {8, 16, 32, 48, 96, 96};
  c.min_sizes = {30.0, 37.1, 45.8, 56.6, 70.0, 86.4};
  c.max_sizes = {37.1, 45.8, 56.6, 70.0, 86.4, 100.8};
  c.aspect_ratios = {{2}, {2, 3}, {2, 3}, {2, 3}, {2}, {2}};
  return c;
}

}  // namespace

std::vector<std::string> BuiltinPriorConfigNames() {
  return {"ssd300_voc", "ssd300_coco", "ssd512_voc", "ssd512_coco", "ssd_mini96"};
}

PriorConfig BuiltinPriorConfig(const std::string& name) {
  // SSD300 VOC and COCO sizes as in paper.md "Priors"; SSD512 as in the original SSD release.
  if (name == "ssd300_voc")
    return Ssd300(name, {30, 60, 111, 162, 213, 264}, {60, 111, 162, 213, 264, 315});
  if (name == "ssd300_coco")
    return Ssd300(name, {21, 45, 99, 153, 207, 261}, {45, 99, 153, 207, 261, 315});
  if (name == "ssd512_voc")
    return Ssd512(name, {35.84, 76.8, 153.6, 230.4, 307.2, 384.0, 460.8},
                  {76.8, 153.6, 230.4, 307.2, 384.0, 460.8, 537.6});
  if (name == "ssd512_coco")
    return Ssd512(name, {20.48, 51.2, 133.12, 215.04, 296.96, 378.88, 460.8},
                  {51.2, 133.12, 215.04, 296.96, 378.88, 460.8, 542.72});
  if (name == "ssd_mini96") return Mini96(name);
  Fail("unknown prior config '{}' (known: {})", name, fmt::join(BuiltinPriorConfigNames(), ", "));
}

}  // namespace scratchdet::box
