// SSD prior-box ("default box") configurations.
//
// A PriorConfig describes one prior level per detection source: its step (stride in input
// pixels), min/max box sizes and extra aspect ratios. The priors themselves are generated
// from the *actual* feature-map sizes of a model (priors.h), so a config also serves input
// sizes and tails (e.g. the released code's 5,5 residual tail) other than its nominal one.
#pragma once

#include <string>
#include <vector>

namespace scratchdet::box {

struct PriorConfig {
  std::string name;
  int image_size = 300;                         // nominal input size the sizes refer to
  std::vector<double> steps;                    // per level, input pixels per cell
  std::vector<double> min_sizes;                // per level, input pixels
  std::vector<double> max_sizes;                // per level, input pixels (empty: none)
  std::vector<std::vector<double>> aspect_ratios;  // per level, ratios besides 1
  bool flip = true;                             // add 1/r for every ratio r
  bool clip = false;                            // clamp (cx, cy, w, h) to [0, 1]
  std::vector<double> variances = {0.1, 0.1, 0.2, 0.2};

  int num_levels() const { return static_cast<int>(min_sizes.size()); }
  // Boxes per feature-map cell at `level`: 1 (min) + 1 (sqrt(min*max)) + ratios (x2 if flip).
  int priors_per_cell(int level) const;
  // Throws scratchdet::Error naming the field when the config is inconsistent.
  void Validate() const;
};

// Built-in configs: "ssd300_voc", "ssd300_coco", "ssd512_voc", "ssd512_coco", and the
// mini profile's "ssd_mini96" (SSD300's grid-relative geometry at 96 px)
// (paper.md, "Priors"). Throws scratchdet::Error listing the known names otherwise.
PriorConfig BuiltinPriorConfig(const std::string& name);
std::vector<std::string> BuiltinPriorConfigNames();

}  // namespace scratchdet::box
