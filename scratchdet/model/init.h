// Explicit, seeded weight initialisation, as the official ScratchDet code initialises each part.
//
//   part                                  conv weights                          conv bias
//   VGG16 backbone, SSD-style extras,     Xavier-uniform (original SSD Caffe:    0
//   loc/conf prediction convs             weight_filler "xavier")
//   ResNet / Root-ResNet backbones,       Kaiming-normal, fan_out, ReLU gain     0
//   residual extra layers                 (torchvision ResNet; mmdetection port
//                                         kaiming_init)
//   every BatchNorm2d                     weight 1, bias 0, running mean 0 / var 1
//   L2Norm (VGG conv4_3 without BN)       every channel's scale = 20 (SSD)
//   Linear (classification pretrain)      normal(0, 0.01), bias 0 (torchvision)
//
// A module picks its scheme by deriving from InitSchemeOwner; submodules inherit the scheme of
// their nearest owning ancestor, and the default (no owner) is Xavier-uniform.
#pragma once

#include <cstdint>

namespace torch::nn {
class Module;
}  // namespace torch::nn

namespace scratchdet::model {

enum class InitScheme { kXavierUniform, kKaimingNormalFanOut };

class InitSchemeOwner {
 public:
  virtual ~InitSchemeOwner() = default;
  virtual InitScheme init_scheme() const = 0;
};

// Re-initialises every parameter and BN buffer of `module` (which must be on the CPU) from a
// private generator seeded with `seed`: the same seed gives the same weights, and the global
// torch RNG is left untouched.
void InitializeWeights(torch::nn::Module& module, int64_t seed);

}  // namespace scratchdet::model
