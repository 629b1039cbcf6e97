// SSD's VGG16 trunk (Liu et al., SSD, and paper.md "Architecture facts"): conv1_1..conv5_3,
// pool3 in ceil mode (so 300 -> 38 at conv4_3), pool5 3x3/1/1, fc6 as a 3x3 conv with dilation
// 6 and 1024 channels, fc7 1x1 with 1024 channels. Sources: conv4_3 (512@38) and fc7
// (1024@19). Without BN, conv4_3 goes through SSD's L2Norm (scale 20, learnable); with BN the
// paper removes it. "vgg16_bn" = BN after every conv including fc6/fc7 (torchvision's
// vgg16_bn layout for the conv part, so its ImageNet weights import by name).
#include <ATen/ops/max_pool2d.h>
#include <fmt/format.h>

#include <memory>
#include <string>
#include <vector>

#include "scratchdet/model/backbone/backbone.h"
#include "scratchdet/model/config.h"
#include "scratchdet/model/layers.h"
#include "scratchdet/model/shape_arithmetic.h"

namespace scratchdet::model {

namespace {

constexpr int kStageConvs[5] = {2, 2, 3, 3, 3};
constexpr int64_t kStageChannels[5] = {64, 128, 256, 512, 512};

class Vgg16Impl : public BackboneImpl {
 public:
  explicit Vgg16Impl(const BackboneOptions& options) : BackboneImpl(options) {
    const double w = options.width_multiplier();
    const bool bn = options.batch_norm();
    int64_t in = 3;
    for (int s = 0; s < 5; ++s) {
      const int64_t out = ScaledChannels(kStageChannels[s], w);
      stages_.emplace_back();
      for (int c = 0; c < kStageConvs[s]; ++c) {
        stages_.back().push_back(
            register_module(fmt::format("conv{}_{}", s + 1, c + 1),
                            ConvBlock(ConvBlockOptions(in, out, 3).padding(1).batch_norm(bn))));
        in = out;
      }
    }
    conv4_channels_ = ScaledChannels(kStageChannels[3], w);
    fc_channels_ = ScaledChannels(1024, w);
    fc6_ = register_module(
        "fc6",
        ConvBlock(ConvBlockOptions(in, fc_channels_, 3).padding(6).dilation(6).batch_norm(bn)));
    fc7_ = register_module(
        "fc7", ConvBlock(ConvBlockOptions(fc_channels_, fc_channels_, 1).batch_norm(bn)));
    if (!bn) l2norm_ = register_module("l2norm", L2Norm(conv4_channels_, 20.0));
  }

  std::vector<torch::Tensor> forward(const torch::Tensor& images) override {
    torch::Tensor x = images;
    torch::Tensor conv4_3;
    for (int s = 0; s < 5; ++s) {
      for (auto& conv : stages_[s]) x = conv->forward(x);
      if (s == 3) conv4_3 = l2norm_ ? l2norm_->forward(x) : x;
      if (s < 4) x = at::max_pool2d(x, {2, 2}, {2, 2}, {0, 0}, {1, 1}, /*ceil_mode=*/s == 2);
    }
    x = at::max_pool2d(x, {3, 3}, {1, 1}, {1, 1});  // pool5
    x = fc7_->forward(fc6_->forward(x));
    return {conv4_3, x};
  }

  std::vector<int64_t> out_channels() const override { return {conv4_channels_, fc_channels_}; }

  std::vector<box::FeatureMapSize> SourceSizes(int height, int width) const override {
    auto sizes = [](int64_t n) {
      for (int s = 0; s < 3; ++s) n = PoolOutputSize(n, 2, 2, 0, /*ceil_mode=*/s == 2);
      const int64_t conv4 = n;
      n = PoolOutputSize(n, 2, 2, 0, false);
      n = PoolOutputSize(n, 3, 1, 1, false);
      n = ConvOutputSize(n, 3, 1, 6, 6);
      return std::pair<int64_t, int64_t>(conv4, n);
    };
    const auto [h4, h7] = sizes(height);
    const auto [w4, w7] = sizes(width);
    return {{static_cast<int>(h4), static_cast<int>(w4)},
            {static_cast<int>(h7), static_cast<int>(w7)}};
  }

  InitScheme init_scheme() const override { return InitScheme::kXavierUniform; }

 private:
  std::vector<std::vector<ConvBlock>> stages_;
  ConvBlock fc6_{nullptr}, fc7_{nullptr};
  L2Norm l2norm_{nullptr};
  int64_t conv4_channels_ = 0, fc_channels_ = 0;
};

std::shared_ptr<BackboneImpl> MakeVgg16(const BackboneOptions& options) {
  return std::make_shared<Vgg16Impl>(options);
}

const BackboneRegistrar kVgg16("vgg16", BackboneBatchNorm::kOptional, MakeVgg16);
const BackboneRegistrar kVgg16Bn("vgg16_bn", BackboneBatchNorm::kAlways, MakeVgg16);

}  // namespace

}  // namespace scratchdet::model
