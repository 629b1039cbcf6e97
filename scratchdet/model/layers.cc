#include "scratchdet/model/layers.h"

#include <torch/nn/init.h>

#include "scratchdet/model/mac_counter.h"
#include "scratchdet/model/shape_arithmetic.h"

namespace scratchdet::model {

ConvBlockImpl::ConvBlockImpl(const ConvBlockOptions& options_) : options(options_) {
  conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(options.in_channels(),
                                                                            options.out_channels(),
                                                                            options.kernel_size())
                                                       .stride(options.stride())
                                                       .padding(options.padding())
                                                       .dilation(options.dilation())
                                                       .bias(!options.batch_norm())));
  if (options.batch_norm())
    bn = register_module("bn", torch::nn::BatchNorm2d(options.out_channels()));
}

torch::Tensor ConvBlockImpl::forward(const torch::Tensor& x) {
  // Without BN the ReLU follows the conv directly (fused into it where Winograd runs).
  if (!bn) return CountedConv(conv, x, options.relu());
  torch::Tensor y = bn->forward(CountedConv(conv, x));
  // In place, as torchvision's ReLU(inplace=True): neither the conv's nor the BN's backward
  // reads its output, so the same numbers with one activation-sized buffer less.
  if (options.relu()) y = torch::relu_(y);
  return y;
}

int64_t ConvBlockImpl::OutputSize(int64_t n) const {
  return ConvOutputSize(n, options.kernel_size(), options.stride(), options.padding(),
                        options.dilation());
}

BasicBlockImpl::BasicBlockImpl(const BasicBlockOptions& options_) : options(options_) {
  const bool bn = options.batch_norm();
  auto conv3x3 = [bn](int64_t in, int64_t out, int64_t stride, int64_t padding) {
    return torch::nn::Conv2d(
        torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(padding).bias(!bn));
  };
  conv1 = register_module("conv1", conv3x3(options.in_channels(), options.out_channels(),
                                           options.stride(), options.padding()));
  if (bn) bn1 = register_module("bn1", torch::nn::BatchNorm2d(options.out_channels()));
  conv2 = register_module("conv2", conv3x3(options.out_channels(), options.out_channels(), 1, 1));
  if (bn) bn2 = register_module("bn2", torch::nn::BatchNorm2d(options.out_channels()));
  if (options.stride() != 1 || options.in_channels() != options.out_channels() ||
      options.padding() != 1) {
    shortcut_conv =
        torch::nn::Conv2d(torch::nn::Conv2dOptions(options.in_channels(), options.out_channels(), 1)
                              .stride(options.stride())
                              .bias(!bn));
    downsample = torch::nn::Sequential(shortcut_conv);
    if (bn) {
      shortcut_bn = torch::nn::BatchNorm2d(options.out_channels());
      downsample->push_back(shortcut_bn);
    }
    register_module("downsample", downsample);
  }
}

torch::Tensor BasicBlockImpl::forward(const torch::Tensor& x) {
  torch::Tensor y = CountedConv(conv1, x);
  if (bn1) y = bn1->forward(y);
  y = torch::relu_(y);  // in place: see ConvBlockImpl::forward
  y = CountedConv(conv2, y);
  if (bn2) y = bn2->forward(y);
  torch::Tensor shortcut = x;
  if (downsample) {
    const int64_t crop = 1 - options.padding();  // valid block: centre crop
    if (crop > 0)
      shortcut =
          shortcut.slice(2, crop, shortcut.size(2) - crop).slice(3, crop, shortcut.size(3) - crop);
    shortcut = CountedConv(shortcut_conv, shortcut);
    if (shortcut_bn) shortcut = shortcut_bn->forward(shortcut);
  }
  return torch::relu_(y.add_(shortcut));
}

int64_t BasicBlockImpl::OutputSize(int64_t n) const {
  return ConvOutputSize(ConvOutputSize(n, 3, options.stride(), options.padding()), 3, 1, 1);
}

L2NormImpl::L2NormImpl(int64_t channels, double scale_) : scale(scale_) {
  weight = register_parameter("weight", torch::empty({channels}));
  reset_parameters();
}

void L2NormImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  weight.fill_(scale);
}

torch::Tensor L2NormImpl::forward(const torch::Tensor& x) {
  // SSD adds eps to the norm so an all-zero (post-ReLU) column stays finite.
  const torch::Tensor norm = x.pow(2).sum(1, /*keepdim=*/true).sqrt() + 1e-10;
  return x / norm * weight.view({1, -1, 1, 1});
}

}  // namespace scratchdet::model
