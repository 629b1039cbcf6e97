#include "scratchdet/model/backbone/resnet.h"

#include <ATen/ops/max_pool2d.h>
#include <fmt/format.h>

#include "scratchdet/core/error.h"
#include "scratchdet/model/config.h"
#include "scratchdet/model/mac_counter.h"
#include "scratchdet/model/shape_arithmetic.h"

namespace scratchdet::model {

StandardStemImpl::StandardStemImpl(const BackboneOptions& options, int64_t conv_stride,
                                   bool max_pool)
    : conv_stride_(conv_stride),
      max_pool_(max_pool),
      channels_(ScaledChannels(64, options.width_multiplier())) {
  conv1_ = register_module(
      "conv1",
      torch::nn::Conv2d(
          torch::nn::Conv2dOptions(3, channels_, 7).stride(conv_stride).padding(3).bias(false)));
  bn1_ = register_module("bn1", torch::nn::BatchNorm2d(channels_));
}

torch::Tensor StandardStemImpl::forward(const torch::Tensor& x) {
  torch::Tensor y = bn1_->forward(CountedConv(conv1_, x));
  y = torch::relu_(y);  // in place: see ConvBlockImpl::forward
  if (max_pool_) y = at::max_pool2d(y, {3, 3}, {2, 2}, {1, 1});
  return y;
}

int64_t StandardStemImpl::OutputSize(int64_t n) const {
  n = ConvOutputSize(n, 7, conv_stride_, 3);
  return max_pool_ ? PoolOutputSize(n, 3, 2, 1, false) : n;
}

ResNetImpl::ResNetImpl(const BackboneOptions& options, const ResNetSpec& spec)
    : BackboneImpl(options) {
  stem_ = register_module("stem", spec.stem(options));
  // Stage3 at total stride 8 and stage4 at 16 whatever the stem does (resnet.h).
  const int64_t stem_stride = stem_->stride();
  if (stem_stride != 2 && stem_stride != 4)
    Fail("backbone '{}': stem stride {} unsupported (2 or 4 keep stage3 at stride 8)",
         options.name(), stem_stride);
  stage_strides_ = {1, 2, 8 / (stem_stride * 2), 2};
  int64_t in = stem_->out_channels();
  for (size_t s = 0; s < spec.blocks.size(); ++s) {
    const int64_t out = ScaledChannels(int64_t{64} << s, options.width_multiplier());
    stage_channels_.push_back(out);
    auto layer = std::make_shared<torch::nn::Module>();
    stages_.emplace_back();
    for (int b = 0; b < spec.blocks[s]; ++b) {
      BasicBlock block(BasicBlockOptions(in, out).stride(b == 0 ? stage_strides_[s] : 1));
      stages_.back().push_back(layer->register_module(std::to_string(b), block));
      in = out;
    }
    register_module(fmt::format("layer{}", s + 1), layer);
  }
}

std::vector<torch::Tensor> ResNetImpl::forward(const torch::Tensor& images) {
  torch::Tensor x = stem_->forward(images);
  std::vector<torch::Tensor> sources;
  for (size_t s = 0; s < stages_.size(); ++s) {
    for (auto& block : stages_[s]) x = block->forward(x);
    if (s >= 2) sources.push_back(x);
  }
  return sources;
}

std::vector<int64_t> ResNetImpl::out_channels() const {
  return {stage_channels_[2], stage_channels_[3]};
}

int64_t ResNetImpl::SourceSize(int64_t n, int stage) const {
  n = stem_->OutputSize(n);
  for (int s = 0; s <= stage; ++s)
    for (const auto& block : stages_[s]) n = block->OutputSize(n);
  return n;
}

std::vector<box::FeatureMapSize> ResNetImpl::SourceSizes(int height, int width) const {
  std::vector<box::FeatureMapSize> sizes;
  for (int stage : {2, 3})
    sizes.push_back(
        {static_cast<int>(SourceSize(height, stage)), static_cast<int>(SourceSize(width, stage))});
  return sizes;
}

namespace {

ResNetSpec Standard(std::vector<int> blocks, int64_t conv_stride, bool max_pool) {
  return {std::move(blocks), [conv_stride, max_pool](const BackboneOptions& options) {
            return std::make_shared<StandardStemImpl>(options, conv_stride, max_pool);
          }};
}

BackboneFactory Factory(ResNetSpec spec) {
  return [spec](const BackboneOptions& options) {
    return std::make_shared<ResNetImpl>(options, spec);
  };
}

// paper.md Table C.
const BackboneRegistrar kResNet18("resnet18", BackboneBatchNorm::kAlways,
                                  Factory(Standard({2, 2, 2, 2}, 2, true)));
const BackboneRegistrar kResNet34("resnet34", BackboneBatchNorm::kAlways,
                                  Factory(Standard({3, 4, 6, 3}, 2, true)));
const BackboneRegistrar kResNet18A("resnet18_a", BackboneBatchNorm::kAlways,
                                   Factory(Standard({2, 2, 2, 2}, 2, false)));
const BackboneRegistrar kResNet18B("resnet18_b", BackboneBatchNorm::kAlways,
                                   Factory(Standard({2, 2, 2, 2}, 1, true)));

}  // namespace

}  // namespace scratchdet::model
