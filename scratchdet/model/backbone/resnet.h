// ResNet trunks for detection (paper.md Table C): a stem, then four stages of BasicBlocks with
// 64/128/256/512 channels. Sources: stage3 (256 channels) and stage4 (512 channels).
//
// Per-variant downsampling rule (all keep the detection maps at 38 and 19 for 300 input, as
// Table C requires; only the stem differs between the variants, which is what Table C tests):
//   variant          stem                                   stem stride  stage strides
//   resnet18/34      7x7/2 conv, BN, ReLU, 3x3/2 max-pool    4            1, 2, 1, 2
//   resnet18_a       7x7/2 conv, BN, ReLU (no max-pool)      2            1, 2, 2, 2
//   resnet18_b       7x7/1 conv, BN, ReLU, 3x3/2 max-pool    2            1, 2, 2, 2
//   root_resnet18/34 3 x (3x3/1 conv 64, BN, ReLU), 2x2/2    2            1, 2, 2, 2
//                    max-pool (ceil mode)
// i.e. stage strides are ResNet's 1,2,2,2 whenever the stem downsamples by 2, and the standard
// stride-4 stem gets stage3's stride set to 1, so stage3 always sits at total stride 8 (300 ->
// 38) and stage4 at 16 (-> 19). The standard stem thus keeps torchvision's stages 1-2 exactly
// and the stride is dropped in the first stage that feeds a detection source.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "scratchdet/model/backbone/backbone.h"
#include "scratchdet/model/layers.h"

namespace scratchdet::model {

// The part before the first residual stage.
class ResNetStemImpl : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
  virtual int64_t OutputSize(int64_t n) const = 0;  // along one axis
  virtual int64_t stride() const = 0;               // nominal total downsampling
  virtual int64_t out_channels() const = 0;
};

// torchvision's stem with a configurable conv stride and optional max-pool; children "conv1"
// and "bn1" as torchvision names them.
class StandardStemImpl : public ResNetStemImpl {
 public:
  StandardStemImpl(const BackboneOptions& options, int64_t conv_stride, bool max_pool);
  torch::Tensor forward(const torch::Tensor& x) override;
  int64_t OutputSize(int64_t n) const override;
  int64_t stride() const override { return conv_stride_ * (max_pool_ ? 2 : 1); }
  int64_t out_channels() const override { return channels_; }

 private:
  int64_t conv_stride_;
  bool max_pool_;
  int64_t channels_;
  torch::nn::Conv2d conv1_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr};
};

struct ResNetSpec {
  std::vector<int> blocks;  // BasicBlocks per stage, e.g. {2, 2, 2, 2}
  std::function<std::shared_ptr<ResNetStemImpl>(const BackboneOptions&)> stem;
};

// Children: "stem", "layer1".."layer4" (blocks "0", "1", ... as torchvision's).
class ResNetImpl : public BackboneImpl {
 public:
  ResNetImpl(const BackboneOptions& options, const ResNetSpec& spec);
  std::vector<torch::Tensor> forward(const torch::Tensor& images) override;
  std::vector<int64_t> out_channels() const override;
  std::vector<box::FeatureMapSize> SourceSizes(int height, int width) const override;
  InitScheme init_scheme() const override { return InitScheme::kKaimingNormalFanOut; }

  const std::vector<int64_t>& stage_strides() const { return stage_strides_; }

 private:
  int64_t SourceSize(int64_t n, int stage) const;

  std::shared_ptr<ResNetStemImpl> stem_;
  std::vector<std::vector<BasicBlock>> stages_;
  std::vector<int64_t> stage_strides_;
  std::vector<int64_t> stage_channels_;
};

}  // namespace scratchdet::model
