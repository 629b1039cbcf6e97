// Building blocks shared by the backbones, extra layers and head.
#pragma once

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include <cstdint>

namespace scratchdet::model {

struct ConvBlockOptions {
  ConvBlockOptions(int64_t in_channels, int64_t out_channels, int64_t kernel_size)
      : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_channels);
  TORCH_ARG(int64_t, kernel_size);
  TORCH_ARG(int64_t, stride) = 1;
  TORCH_ARG(int64_t, padding) = 0;
  TORCH_ARG(int64_t, dilation) = 1;
  TORCH_ARG(bool, batch_norm) = false;  // conv without bias, then BatchNorm2d
  TORCH_ARG(bool, relu) = true;
};

// conv -> [BN] -> [ReLU]; children "conv" and (with BN) "bn".
class ConvBlockImpl : public torch::nn::Module {
 public:
  explicit ConvBlockImpl(const ConvBlockOptions& options);
  torch::Tensor forward(const torch::Tensor& x);
  int64_t OutputSize(int64_t n) const;  // along one axis (shape_arithmetic.h)

  ConvBlockOptions options;
  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
};
TORCH_MODULE(ConvBlock);

struct BasicBlockOptions {
  BasicBlockOptions(int64_t in_channels, int64_t out_channels)
      : in_channels_(in_channels), out_channels_(out_channels) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_channels);
  TORCH_ARG(int64_t, stride) = 1;
  // Padding of the first 3x3 conv: 1 keeps the size (ResNet), 0 is a "valid" block that
  // shrinks the map by 2 (the residual extras' 3 -> 1 step); its shortcut then takes the
  // centre crop, the input pixel each output is centred on.
  TORCH_ARG(int64_t, padding) = 1;
  TORCH_ARG(bool, batch_norm) = true;
};

// ResNet BasicBlock: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)). Children are named
// as torchvision's ("conv1", "bn1", "conv2", "bn2", "downsample" = [1x1 conv, BN]) so that
// ImageNet state dicts map by name. The shortcut is a projection when the stride, the channel
// count or the size changes, the identity otherwise.
class BasicBlockImpl : public torch::nn::Module {
 public:
  explicit BasicBlockImpl(const BasicBlockOptions& options);
  torch::Tensor forward(const torch::Tensor& x);
  int64_t OutputSize(int64_t n) const;

  BasicBlockOptions options;
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
  torch::nn::Sequential downsample{nullptr};  // holds shortcut_conv, shortcut_bn
  torch::nn::Conv2d shortcut_conv{nullptr};
  torch::nn::BatchNorm2d shortcut_bn{nullptr};
};
TORCH_MODULE(BasicBlock);

// SSD's L2Norm on conv4_3: x / ||x||_channels * weight, weight learnable per channel, initial
// value `scale` (20 in SSD).
class L2NormImpl : public torch::nn::Module {
 public:
  L2NormImpl(int64_t channels, double scale);
  torch::Tensor forward(const torch::Tensor& x);
  void reset_parameters();

  double scale;
  torch::Tensor weight;  // [channels]
};
TORCH_MODULE(L2Norm);

}  // namespace scratchdet::model
