#include "scratchdet/model/init.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <cmath>

#include "scratchdet/core/error.h"
#include "scratchdet/model/layers.h"

namespace scratchdet::model {

namespace {

void InitConv(torch::nn::Conv2dImpl& conv, InitScheme scheme, at::Generator& generator) {
  torch::Tensor& weight = conv.weight;  // [Cout, Cin/groups, kh, kw]
  const double receptive = static_cast<double>(weight.size(2) * weight.size(3));
  const double fan_in = weight.size(1) * receptive;
  const double fan_out = weight.size(0) * receptive;
  if (scheme == InitScheme::kXavierUniform) {
    const double bound = std::sqrt(6.0 / (fan_in + fan_out));
    weight.uniform_(-bound, bound, generator);
  } else {
    weight.normal_(0.0, std::sqrt(2.0 / fan_out), generator);  // ReLU gain sqrt(2)
  }
  if (conv.bias.defined()) conv.bias.zero_();
}

void Visit(torch::nn::Module& module, InitScheme scheme, at::Generator& generator) {
  if (const auto* owner = dynamic_cast<const InitSchemeOwner*>(&module))
    scheme = owner->init_scheme();
  if (auto* conv = dynamic_cast<torch::nn::Conv2dImpl*>(&module)) {
    if (!conv->weight.device().is_cpu())
      Fail("InitializeWeights: parameters must be on the CPU (initialise, then move)");
    InitConv(*conv, scheme, generator);
  } else if (auto* bn = dynamic_cast<torch::nn::BatchNorm2dImpl*>(&module)) {
    bn->weight.fill_(1.0);
    bn->bias.zero_();
    bn->reset_running_stats();
  } else if (auto* linear = dynamic_cast<torch::nn::LinearImpl*>(&module)) {
    linear->weight.normal_(0.0, 0.01, generator);
    if (linear->bias.defined()) linear->bias.zero_();
  } else if (auto* l2norm = dynamic_cast<L2NormImpl*>(&module)) {
    l2norm->reset_parameters();
  }
  for (const auto& child : module.children()) Visit(*child, scheme, generator);
}

}  // namespace

void InitializeWeights(torch::nn::Module& module, int64_t seed) {
  torch::NoGradGuard no_grad;
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(seed));
  Visit(module, InitScheme::kXavierUniform, generator);
}

}  // namespace scratchdet::model
