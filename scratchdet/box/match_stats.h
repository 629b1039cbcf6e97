// How well a set of priors covers a dataset's objects under SSD matching: the numbers behind
// "does every object get a prior, and how many positives does it train?" (docs/mini.md,
// "Prior geometry"; `scratchdet match-stats`).
#pragma once

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace scratchdet::box {

struct MatchStatsOptions {
  double iou_threshold = 0.5;  // the matcher's positive threshold (paper: 0.5)
  // Object-size bins: sqrt(box area) as a fraction of sqrt(input area), bin k is
  // [size_edges[k], size_edges[k+1]); the last bin is open.
  std::vector<double> size_edges = {0.0, 0.1, 0.2, 0.3, 0.5, 0.7};
};

struct MatchStatsBin {
  int64_t objects = 0;    // non-difficult ground truths in the bin
  int64_t covered = 0;    // of them, with a prior of IoU >= iou_threshold
  int64_t positives = 0;  // priors matched to them (threshold and forced matches)
  double covered_share() const { return objects ? static_cast<double>(covered) / objects : 0; }
  double positives_per_object() const {
    return objects ? static_cast<double>(positives) / objects : 0;
  }
};

class MatchStats {
 public:
  // priors [P, 4] (cx, cy, w, h) normalised, in the level order of GeneratePriors;
  // level_ends[l] = end index (exclusive) of level l.
  MatchStats(torch::Tensor priors, std::vector<int64_t> level_ends, MatchStatsOptions options = {});

  // One image: boxes [G, 4] (x1, y1, x2, y2) normalised, difficult per box (empty = none).
  // All boxes take part in matching, as in training; only non-difficult ones are counted.
  void Add(const torch::Tensor& boxes, const std::vector<uint8_t>& difficult);

  const MatchStatsBin& total() const { return total_; }
  // Objects grouped by the level of their best prior (the level that would have to learn them).
  const std::vector<MatchStatsBin>& by_best_level() const { return by_level_; }
  // Positives per object that fall on each level (sums to total().positives_per_object()).
  std::vector<double> positives_per_object_on_level() const;
  const std::vector<MatchStatsBin>& by_size() const { return by_size_; }
  const MatchStatsOptions& options() const { return options_; }
  int64_t images() const { return images_; }
  // Median over counted objects of their best IoU with any prior.
  double median_best_iou() const;

  nlohmann::json ToJson() const;
  // A human-readable report (a table per breakdown).
  std::string Format() const;

 private:
  torch::Tensor priors_;
  std::vector<int64_t> level_ends_;
  MatchStatsOptions options_;
  MatchStatsBin total_;
  std::vector<MatchStatsBin> by_level_, by_size_;
  std::vector<int64_t> positives_on_level_;
  std::vector<double> best_ious_;
  int64_t images_ = 0;
};

}  // namespace scratchdet::box
