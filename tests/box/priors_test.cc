#include "scratchdet/box/priors.h"

#include <gtest/gtest.h>

#include <cmath>

#include "scratchdet/core/error.h"

namespace scratchdet::box {
namespace {

const std::vector<FeatureMapSize> kSsd300Maps = {{38, 38}, {19, 19}, {10, 10},
                                                 {5, 5},   {3, 3},   {1, 1}};

TEST(PriorsTest, Ssd300VocHas8732Priors) {
  const PriorConfig config = BuiltinPriorConfig("ssd300_voc");
  EXPECT_EQ(CountPriors(config, kSsd300Maps), 8732);
  const torch::Tensor priors = GeneratePriors(config, kSsd300Maps, 300, 300);
  EXPECT_EQ(priors.size(0), 8732);
  EXPECT_EQ(priors.size(1), 4);
}

TEST(PriorsTest, PriorsPerCellFollowRatiosAndFlip) {
  const PriorConfig config = BuiltinPriorConfig("ssd300_voc");
  const std::vector<int> expected = {4, 6, 6, 6, 4, 4};
  for (int l = 0; l < 6; ++l) EXPECT_EQ(config.priors_per_cell(l), expected[l]) << "level " << l;
}

TEST(PriorsTest, FirstCellWorkedByHand) {
  // Level 0, cell (0,0): centre 0.5*8/300; min 30/300; sqrt(30*60)/300; ratio 2: 30*sqrt(2)/300.
  const torch::Tensor p =
      GeneratePriors(BuiltinPriorConfig("ssd300_voc"), kSsd300Maps, 300, 300);
  const float c = 4.0f / 300.0f;
  const float s = 0.1f;
  const float big = std::sqrt(1800.0f) / 300.0f;
  const float r = std::sqrt(2.0f);
  const float expected[4][4] = {
      {c, c, s, s}, {c, c, big, big}, {c, c, s * r, s / r}, {c, c, s / r, s * r}};
  for (int k = 0; k < 4; ++k)
    for (int d = 0; d < 4; ++d) EXPECT_NEAR(p[k][d].item<float>(), expected[k][d], 1e-6);
  // Cell (0,1) of level 0 starts at prior 4 with cx = 1.5*8/300.
  EXPECT_NEAR(p[4][0].item<float>(), 12.0f / 300.0f, 1e-6);
  EXPECT_NEAR(p[4][1].item<float>(), c, 1e-6);
}

TEST(PriorsTest, LastPriorIsTheOneByOneMap) {
  // Level 5 (1x1, step 300): centre 0.5; last prior is the flipped ratio-2 box of size 264.
  const torch::Tensor p =
      GeneratePriors(BuiltinPriorConfig("ssd300_voc"), kSsd300Maps, 300, 300);
  const float s = 264.0f / 300.0f;
  const float r = std::sqrt(2.0f);
  EXPECT_NEAR(p[8731][0].item<float>(), 0.5f, 1e-6);
  EXPECT_NEAR(p[8731][1].item<float>(), 0.5f, 1e-6);
  EXPECT_NEAR(p[8731][2].item<float>(), s / r, 1e-6);
  EXPECT_NEAR(p[8731][3].item<float>(), s * r, 1e-6);
}

TEST(PriorsTest, ClipClampsToUnitSquare) {
  PriorConfig config = BuiltinPriorConfig("ssd300_voc");
  config.clip = true;
  const torch::Tensor p = GeneratePriors(config, kSsd300Maps, 300, 300);
  EXPECT_LE(p.max().item<float>(), 1.0f);
  EXPECT_GE(p.min().item<float>(), 0.0f);
  config.clip = false;
  EXPECT_GT(GeneratePriors(config, kSsd300Maps, 300, 300).max().item<float>(), 1.0f);
}

TEST(PriorsTest, ReleasedResidualTailGives8892) {
  // The released Caffe generator's residual extras end in 5,5 instead of 3,1.
  const std::vector<FeatureMapSize> maps = {{38, 38}, {19, 19}, {10, 10}, {5, 5}, {5, 5}, {5, 5}};
  EXPECT_EQ(CountPriors(BuiltinPriorConfig("ssd300_voc"), maps), 8892);
}

TEST(PriorsTest, NonNominalMapsTileTheInput) {
  // A 128 input with maps 16/8/4/2/1/1: level 0 cells are 1/16 apart.
  const std::vector<FeatureMapSize> maps = {{16, 16}, {8, 8}, {4, 4}, {2, 2}, {1, 1}, {1, 1}};
  const torch::Tensor p = GeneratePriors(BuiltinPriorConfig("ssd300_voc"), maps, 128, 128);
  EXPECT_NEAR(p[0][0].item<float>(), 0.5f / 16, 1e-6);
  EXPECT_NEAR(p[4][0].item<float>(), 1.5f / 16, 1e-6);
  EXPECT_NEAR(p[0][2].item<float>(), 0.1f, 1e-6);  // relative size kept
}

TEST(PriorsTest, BadInputsThrow) {
  const PriorConfig config = BuiltinPriorConfig("ssd300_voc");
  EXPECT_THROW(CountPriors(config, {{38, 38}}), Error);
  EXPECT_THROW(CountPriors(config, {{38, 38}, {19, 19}, {10, 10}, {5, 5}, {3, 3}, {0, 1}}), Error);
  EXPECT_THROW(BuiltinPriorConfig("ssd301_voc"), Error);
  EXPECT_EQ(CountPriors(BuiltinPriorConfig("ssd512_voc"),
                        {{64, 64}, {32, 32}, {16, 16}, {8, 8}, {4, 4}, {2, 2}, {1, 1}}),
            24564);
}

}  // namespace
}  // namespace scratchdet::box
