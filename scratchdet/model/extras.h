// Extra layers after the backbone: four more detection sources (10, 5, 3, 1 at 300 input).
//
//   "ssd"      SSD's extras (paper.md): 1x1 256 -> 3x3/2 512; 1x1 128 -> 3x3/2 256;
//              1x1 128 -> 3x3/p0 256; 1x1 128 -> 3x3/p0 256. Children conv6_1 .. conv9_2.
//              extras_tail sets the last two 3x3 convs the same way as for "residual":
//                "paper" p0, p0 (10,5,3,1); "released" p1, p1 (10,5,5,5);
//                "mmdet" p0, p1 (10,5,3,3). The size-keeping tails let small inputs (the mini
//                profile) keep six non-empty maps: 128 input gives 16,8,4,2,2,2.
//   "residual" ScratchDet300's extras: one 128-channel BasicBlock per map, children
//              block1 .. block4, each downsampling block with a 1x1 projection shortcut.
//              extras_tail picks the last two blocks:
//                "paper"    3x3/2 block (5 -> 3), then a valid (padding 0) block (3 -> 1),
//                           whose shortcut projects the centre crop: maps 10,5,3,1 (8732
//                           priors with ssd300_voc), as the paper's text states.
//                "released" two stride-1 blocks: 10,5,5,5 as the released Caffe generator
//                           (8892 priors).
//                "mmdet"    stride 2 then stride 1: 10,5,3,3 as the mmdetection port.
// With batch_norm every conv is conv (no bias) -> BN (-> ReLU).
#pragma once

#include <torch/arg.h>
#include <torch/nn/module.h>

#include <memory>
#include <string>
#include <vector>

#include "scratchdet/box/priors.h"
#include "scratchdet/model/init.h"

namespace scratchdet::model {

struct ExtrasOptions {
  ExtrasOptions(std::string style, int64_t in_channels)
      : style_(std::move(style)), in_channels_(in_channels) {}
  TORCH_ARG(std::string, style);
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(bool, batch_norm) = false;
  TORCH_ARG(double, width_multiplier) = 1.0;
  TORCH_ARG(std::string, extras_tail) = "paper";
};

class ExtrasImpl : public torch::nn::Module, public InitSchemeOwner {
 public:
  // [B, C, H, W] (the last backbone source) -> the four extra sources, largest first.
  virtual std::vector<torch::Tensor> forward(const torch::Tensor& x) = 0;
  virtual std::vector<int64_t> out_channels() const = 0;
  // Sizes of the four maps for an input map of `input` (0 = empty).
  virtual std::vector<box::FeatureMapSize> OutputSizes(box::FeatureMapSize input) const = 0;
};

// "ssd", "residual".
std::vector<std::string> ExtrasNames();

// Throws scratchdet::Error naming the key for an unknown style or tail.
std::shared_ptr<ExtrasImpl> CreateExtras(const ExtrasOptions& options);

}  // namespace scratchdet::model
