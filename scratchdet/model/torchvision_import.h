// Import of torchvision ImageNet weights into a backbone. The file is a state dict (of the
// whole model, or of `model.features` for VGG) saved by Python as a plain dict:
//   torch.save(dict(model.state_dict()), path)
// because LibTorch 1.13's torch::pickle_load cannot rebuild the OrderedDict (with _metadata)
// that `torch.save(model.state_dict())` writes. export_torchvision_weights.py converts a
// downloaded torchvision .pth file.
//
// Name mapping:
//   resnet18/34 (and resnet18_a/_b, whose stem convs have the same shapes):
//       conv1.*, bn1.*  -> stem.conv1.*, stem.bn1.*;  layerN.B.* -> layerN.B.* (same names);
//       fc.* is the classifier and is ignored.
//   vgg16 / vgg16_bn: features.I.* (or I.* for a `features` state dict) -> convA_B.conv.* and,
//       for vgg16_bn, features.I+1.* -> convA_B.bn.*; classifier.* is ignored. SSD's fc6/fc7
//       (a dilated 3x3 and a 1x1 conv, 1024 channels) have no torchvision counterpart: they
//       and L2Norm keep their initialisation and are listed in `kept_initialised`.
// Every other mismatch is an error listing the keys: a backbone tensor with no source key, a
// source key that maps nowhere, or a shape that differs (e.g. width_multiplier != 1).
// torchvision models expect RGB input in [0, 1] normalised by ImageNet mean/std.
#pragma once

#include <string>
#include <vector>

#include "scratchdet/model/backbone/backbone.h"

namespace scratchdet::model {

struct TorchvisionImportReport {
  std::vector<std::string> imported;          // backbone tensor names that were loaded
  std::vector<std::string> kept_initialised;  // backbone tensors with no torchvision source
  std::vector<std::string> ignored;           // state-dict keys of the classifier
};

TorchvisionImportReport ImportTorchvisionWeights(BackboneImpl& backbone,
                                                 const std::string& state_dict_path);

}  // namespace scratchdet::model
