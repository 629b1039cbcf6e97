// SSD prediction head: one 3x3 loc conv (A*4 outputs) and one 3x3 conf conv (A*num_classes)
// per detection source, A = PriorConfig::priors_per_cell(level). With batch_norm (the
// mmdetection/COCO variant, paper.md "BN in the head") each is conv without bias -> BN.
#pragma once

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>

#include <utility>
#include <vector>

#include "scratchdet/model/layers.h"

namespace scratchdet::model {

struct SsdHeadOptions {
  SsdHeadOptions(std::vector<int64_t> in_channels, std::vector<int64_t> priors_per_cell,
                 int64_t num_classes)
      : in_channels_(std::move(in_channels)),
        priors_per_cell_(std::move(priors_per_cell)),
        num_classes_(num_classes) {}
  TORCH_ARG(std::vector<int64_t>, in_channels);      // per source
  TORCH_ARG(std::vector<int64_t>, priors_per_cell);  // per source
  TORCH_ARG(int64_t, num_classes);                   // background included
  TORCH_ARG(bool, batch_norm) = false;
};

// Children "loc" and "conf", ModuleLists of ConvBlocks (one per source).
class SsdHeadImpl : public torch::nn::Module {
 public:
  explicit SsdHeadImpl(const SsdHeadOptions& options);

  // sources[l]: [B, C_l, H_l, W_l] -> (loc [B, P, 4], conf logits [B, P, num_classes]); each
  // conv output [B, A*k, H, W] becomes [B, H, W, A*k] -> [B, H*W*A, k] (the prior order of
  // box::GeneratePriors), levels concatenated.
  std::pair<torch::Tensor, torch::Tensor> forward(const std::vector<torch::Tensor>& sources);

  const SsdHeadOptions& options() const { return options_; }

 private:
  SsdHeadOptions options_;
  std::vector<ConvBlock> loc_, conf_;
};
TORCH_MODULE(SsdHead);

}  // namespace scratchdet::model
