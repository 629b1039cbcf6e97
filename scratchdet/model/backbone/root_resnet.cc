// Root-ResNet (paper Sec. 4.3, paper.md "Root block"): ResNet-B with the 7x7 conv replaced by
// three 3x3 stride-1 64-channel conv-BN-ReLU, keeping the 2x2/2 max-pool, so no detail is
// thrown away before the first residual stage.
#include <ATen/ops/max_pool2d.h>

#include "scratchdet/model/backbone/resnet.h"
#include "scratchdet/model/config.h"
#include "scratchdet/model/shape_arithmetic.h"

namespace scratchdet::model {

namespace {

class RootStemImpl : public ResNetStemImpl {
 public:
  explicit RootStemImpl(const BackboneOptions& options)
      : channels_(ScaledChannels(64, options.width_multiplier())) {
    int64_t in = 3;
    for (int i = 0; i < 3; ++i) {
      convs_.push_back(register_module(
          "conv" + std::to_string(i + 1),
          ConvBlock(ConvBlockOptions(in, channels_, 3).padding(1).batch_norm(true))));
      in = channels_;
    }
  }

  torch::Tensor forward(const torch::Tensor& x) override {
    torch::Tensor y = x;
    for (auto& conv : convs_) y = conv->forward(y);
    // Caffe pools round up; at 300 (even) this is the plain 2x2/2 pool.
    return at::max_pool2d(y, {2, 2}, {2, 2}, {0, 0}, {1, 1}, /*ceil_mode=*/true);
  }

  int64_t OutputSize(int64_t n) const override { return PoolOutputSize(n, 2, 2, 0, true); }
  int64_t stride() const override { return 2; }
  int64_t out_channels() const override { return channels_; }

 private:
  int64_t channels_;
  std::vector<ConvBlock> convs_;
};

BackboneFactory RootResNet(std::vector<int> blocks) {
  ResNetSpec spec{std::move(blocks), [](const BackboneOptions& options) {
                    return std::make_shared<RootStemImpl>(options);
                  }};
  return [spec](const BackboneOptions& options) {
    return std::make_shared<ResNetImpl>(options, spec);
  };
}

const BackboneRegistrar kRootResNet18("root_resnet18", BackboneBatchNorm::kAlways,
                                      RootResNet({2, 2, 2, 2}));
const BackboneRegistrar kRootResNet34("root_resnet34", BackboneBatchNorm::kAlways,
                                      RootResNet({3, 4, 6, 3}));

}  // namespace

}  // namespace scratchdet::model
