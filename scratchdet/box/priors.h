// Prior-box generation from a PriorConfig and the real feature-map sizes of a model.
#pragma once

#include <torch/types.h>

#include <vector>

#include "scratchdet/box/prior_config.h"

namespace scratchdet::box {

struct FeatureMapSize {
  int height = 0;
  int width = 0;
};

// Priors as [num_priors, 4] float (cx, cy, w, h), normalised to the input size.
//
// Order (the order the loss and the head's flattened outputs use): level by level; within a
// level row-major over cells (i = row, j = column); within a cell: min size square,
// sqrt(min*max) square, then for each ratio r: (w, h) = (s*sqrt(r), s/sqrt(r)) followed by its
// flip (s/sqrt(r), s*sqrt(r)). Centre of cell (i, j) = ((j+0.5)*step/W_in, (i+0.5)*step/H_in).
//
// Sizes are fractions of the input (min_size / config.image_size), so a config keeps its
// relative box sizes at any input size (the mini profile's small inputs). The step of a level
// is config.steps[l] / config.image_size when the map has its nominal size
// ceil(image_size / step) (so SSD300's 8/300 spacing at 38x38 is exact), and 1 / map size
// otherwise (cells tile the input). Throws scratchdet::Error when the number of maps does not
// match the config's levels or a map is empty.
torch::Tensor GeneratePriors(const PriorConfig& config, const std::vector<FeatureMapSize>& maps,
                             int input_height, int input_width);

// End index (exclusive) of each level's priors in the order GeneratePriors writes them
// (level-major), for per-level statistics.
std::vector<int64_t> PriorLevelEnds(const PriorConfig& config,
                                    const std::vector<FeatureMapSize>& maps);

// Total number of priors without generating them.
int64_t CountPriors(const PriorConfig& config, const std::vector<FeatureMapSize>& maps);

}  // namespace scratchdet::box
