#include "scratchdet/box/match_stats.h"

#include <gtest/gtest.h>

#include "scratchdet/box/prior_config.h"
#include "scratchdet/box/priors.h"
#include "scratchdet/core/error.h"

namespace scratchdet::box {
namespace {

// Level 0: a 2x2 grid of 0.5-sized priors; level 1: one prior covering the image.
torch::Tensor HandPriors() {
  return torch::tensor({{0.25, 0.25, 0.5, 0.5},
                        {0.75, 0.25, 0.5, 0.5},
                        {0.25, 0.75, 0.5, 0.5},
                        {0.75, 0.75, 0.5, 0.5},
                        {0.5, 0.5, 1.0, 1.0}},
                       torch::kFloat32);
}

torch::Tensor Boxes(std::vector<std::vector<float>> rows) {
  std::vector<torch::Tensor> t;
  for (const auto& r : rows) t.push_back(torch::tensor(r, torch::kFloat32));
  return torch::stack(t);
}

// Hand-computed: A = the top-left cell (IoU 1 with prior 0, 0.25 with the big prior);
// B = the centred half-size box (IoU 1/7 with each cell prior, 0.25 with the big one: not
// covered, only its forced match); C = the whole image (IoU 1 with the big prior).
TEST(MatchStatsTest, HandComputedCoverageAndPositives) {
  MatchStats stats(HandPriors(), {4, 5});
  stats.Add(Boxes({{0, 0, 0.5, 0.5}}), {});
  stats.Add(Boxes({{0.25, 0.25, 0.75, 0.75}}), {});
  stats.Add(Boxes({{0, 0, 1, 1}}), {0});
  EXPECT_EQ(stats.images(), 3);
  EXPECT_EQ(stats.total().objects, 3);
  EXPECT_EQ(stats.total().covered, 2);
  EXPECT_EQ(stats.total().positives, 3);
  EXPECT_NEAR(stats.total().covered_share(), 2.0 / 3, 1e-12);
  ASSERT_EQ(stats.by_best_level().size(), 2u);
  EXPECT_EQ(stats.by_best_level()[0].objects, 1);  // A
  EXPECT_EQ(stats.by_best_level()[0].covered, 1);
  EXPECT_EQ(stats.by_best_level()[1].objects, 2);  // B and C
  EXPECT_EQ(stats.by_best_level()[1].covered, 1);
  const std::vector<double> on_level = stats.positives_per_object_on_level();
  EXPECT_NEAR(on_level[0], 1.0 / 3, 1e-12);
  EXPECT_NEAR(on_level[1], 2.0 / 3, 1e-12);
  // Sizes: A and B are 0.5 of the side, C is 1.0.
  const auto& sizes = stats.by_size();
  EXPECT_EQ(sizes[4].objects, 2);  // [0.5, 0.7)
  EXPECT_EQ(sizes[5].objects, 1);  // >= 0.7
  EXPECT_EQ(sizes[0].objects + sizes[1].objects + sizes[2].objects + sizes[3].objects, 0);
  EXPECT_DOUBLE_EQ(stats.median_best_iou(), 1.0);
  const nlohmann::json j = stats.ToJson();
  EXPECT_EQ(j["total"]["objects"], 3);
  EXPECT_EQ(j["by_best_level"][1]["priors"], 1);
}

// Positives are what the matcher assigns: A' overlaps prior 0 at IoU 0.9 but A takes it, so
// A' is covered (its best IoU is 0.9) yet trains only through its forced match on level 1.
// A difficult box takes part in matching but is not counted.
TEST(MatchStatsTest, PositivesFollowTheMatcherAndDifficultBoxesAreNotCounted) {
  MatchStats stats(HandPriors(), {4, 5});
  stats.Add(Boxes({{0, 0, 0.5, 0.5}, {0, 0, 0.5, 0.45}, {0.5, 0.5, 1, 1}}), {0, 0, 1});
  EXPECT_EQ(stats.total().objects, 2);
  EXPECT_EQ(stats.total().covered, 2);
  EXPECT_EQ(stats.total().positives, 2);
  const std::vector<double> on_level = stats.positives_per_object_on_level();
  EXPECT_NEAR(on_level[0], 0.5, 1e-12);  // A on prior 0
  EXPECT_NEAR(on_level[1], 0.5, 1e-12);  // A' forced onto the big prior
  EXPECT_EQ(stats.by_best_level()[0].objects, 2);
}

TEST(MatchStatsTest, ThresholdDecidesPositivesBeyondTheForcedMatch) {
  // One object equal to the big prior and overlapping each cell prior at IoU 0.25.
  MatchStatsOptions low;
  low.iou_threshold = 0.2;
  MatchStats stats(HandPriors(), {4, 5}, low);
  stats.Add(Boxes({{0, 0, 1, 1}}), {});
  EXPECT_EQ(stats.total().positives, 5);  // all four cells plus the big prior
}

TEST(MatchStatsTest, LevelEndsFromPriorConfigAndBadInput) {
  const PriorConfig config = BuiltinPriorConfig("ssd300_voc");
  const std::vector<FeatureMapSize> maps = {{38, 38}, {19, 19}, {10, 10},
                                            {5, 5},   {3, 3},   {1, 1}};
  const std::vector<int64_t> ends = PriorLevelEnds(config, maps);
  EXPECT_EQ(ends, (std::vector<int64_t>{5776, 7942, 8542, 8692, 8728, 8732}));
  EXPECT_THROW(MatchStats(HandPriors(), {4}), Error);
  MatchStats stats(HandPriors(), {4, 5});
  EXPECT_THROW(stats.Add(Boxes({{0, 0, 1, 1}}), {0, 1}), Error);
}

}  // namespace
}  // namespace scratchdet::box
