// Backbones: a trunk that returns its detection source maps, chosen by name from a registry.
//
// A new variant is a new file with one registration line:
//   static const BackboneRegistrar kRegistrar("my_net", BackboneBatchNorm::kAlways,
//       [](const BackboneOptions& o) { return std::make_shared<MyNetImpl>(o); });
// (its cc_library is alwayslink = 1 and listed in //scratchdet/model/backbone:all).
#pragma once

#include <torch/arg.h>
#include <torch/nn/module.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "scratchdet/box/priors.h"
#include "scratchdet/model/init.h"

namespace scratchdet::model {

struct BackboneOptions {
  explicit BackboneOptions(std::string name) : name_(std::move(name)) {}
  TORCH_ARG(std::string, name);
  TORCH_ARG(bool, batch_norm) = false;
  TORCH_ARG(double, width_multiplier) = 1.0;
};

class BackboneImpl : public torch::nn::Module, public InitSchemeOwner {
 public:
  explicit BackboneImpl(BackboneOptions options) : options_(std::move(options)) {}

  // The detection sources, highest resolution first: [B, out_channels()[i], H_i, W_i].
  virtual std::vector<torch::Tensor> forward(const torch::Tensor& images) = 0;
  virtual std::vector<int64_t> out_channels() const = 0;
  // Source sizes for an input of height x width, by shape arithmetic (0 = empty map).
  virtual std::vector<box::FeatureMapSize> SourceSizes(int height, int width) const = 0;

  const BackboneOptions& options() const { return options_; }

 private:
  BackboneOptions options_;
};

// Whether a backbone has BatchNorm: fixed by its definition, or switchable (bn_backbone).
enum class BackboneBatchNorm { kNever, kOptional, kAlways };

using BackboneFactory = std::function<std::shared_ptr<BackboneImpl>(const BackboneOptions&)>;

struct BackboneRegistrar {
  // `batch_norm` also gives the default of bn_backbone: kOptional defaults to off.
  BackboneRegistrar(const std::string& name, BackboneBatchNorm batch_norm, BackboneFactory factory);
};

// Registered names, sorted.
std::vector<std::string> BackboneNames();

// BatchNorm default of a backbone when the config leaves bn_backbone unset; throws (listing
// the known backbones) for an unknown name and (naming bn_backbone) for a value the backbone
// cannot honour.
bool ResolveBackboneBatchNorm(const std::string& name, const std::optional<bool>& requested);

// Builds the named backbone (weights not yet initialised: see init.h). Throws like
// ResolveBackboneBatchNorm.
std::shared_ptr<BackboneImpl> CreateBackbone(const BackboneOptions& options);

}  // namespace scratchdet::model
