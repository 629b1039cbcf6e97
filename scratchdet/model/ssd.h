// The single-shot detector: backbone -> extra layers -> SSD head, built from a ModelConfig.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "scratchdet/box/multibox_loss.h"
#include "scratchdet/box/postprocess.h"
#include "scratchdet/box/prior_config.h"
#include "scratchdet/box/priors.h"
#include "scratchdet/model/backbone/backbone.h"
#include "scratchdet/model/config.h"
#include "scratchdet/model/extras.h"
#include "scratchdet/model/head.h"

namespace scratchdet::model {

struct SsdOutput {
  torch::Tensor loc;   // [B, P, 4] encoded offsets, prior order of box::GeneratePriors
  torch::Tensor conf;  // [B, P, num_classes] logits, class 0 = background
  std::vector<box::FeatureMapSize> maps;  // the six detection sources' real sizes
};

// The training loss of one batch (SsdDetectorImpl::Loss): the MultiBox terms and the
// matching diagnostics of the README's result schema.
struct DetectionLoss {
  box::MultiBoxLossOutput terms;
  // Positives in the batch on each prior level (sum over images), in level order.
  std::vector<double> positives_per_level;
};

// Children "backbone", "extras", "head". Weights are initialised by BuildDetector (init.h).
class SsdDetectorImpl : public torch::nn::Module {
 public:
  // Throws scratchdet::Error naming the config key for a bad config.
  explicit SsdDetectorImpl(const ModelConfig& config);

  SsdOutput forward(const torch::Tensor& images /*[B, 3, H, W]*/);

  // The training loss of a batch: forward, priors matched to the ground truth (IoU 0.5, the
  // paper's SSD matching), MultiBox loss with 3:1 hard negative mining (box/multibox_loss.h).
  // images [B, 3, H, W] in the memory format the caller wants the convolutions to run in;
  // boxes[i] [G_i, 4] normalised corners and labels[i] [G_i] (>= 1) on the images' device.
  DetectionLoss Loss(const torch::Tensor& images, const std::vector<torch::Tensor>& boxes,
                     const std::vector<torch::Tensor>& labels);

  // Detections per image with the paper's post-processing (score > 0.01, NMS 0.45, top-k 400
  // per class, 200 kept; box/postprocess.h), boxes normalised to the input. Runs without
  // autograd; the caller chooses train/eval mode (evaluation wants eval()).
  std::vector<box::Detections> Predict(const torch::Tensor& images /*[B, 3, H, W]*/);

  // Priors [P, 4] (cx, cy, w, h) normalised, CPU float, for an input of height x width, from
  // the feature-map sizes that input gives; cached per size.
  torch::Tensor Priors(int height, int width);

  // Sizes of the six sources for an input of height x width by shape arithmetic (no forward).
  // Throws scratchdet::Error giving the smallest working square input when a map is empty.
  std::vector<box::FeatureMapSize> FeatureMapSizes(int height, int width) const;
  // Smallest square input giving six non-empty maps.
  int MinimumInputSize() const;

  // Channels of the six sources.
  std::vector<int64_t> source_channels() const;

  // The config with bn_backbone resolved.
  const ModelConfig& config() const { return config_; }
  const box::PriorConfig& prior_config() const { return prior_config_; }
  std::shared_ptr<BackboneImpl> backbone() const { return backbone_; }
  std::shared_ptr<ExtrasImpl> extras() const { return extras_; }

 private:
  std::vector<box::FeatureMapSize> RawSizes(int height, int width) const;

  ModelConfig config_;
  box::PriorConfig prior_config_;
  std::shared_ptr<BackboneImpl> backbone_;
  std::shared_ptr<ExtrasImpl> extras_;
  SsdHead head_{nullptr};
  std::mutex priors_mutex_;
  std::map<std::pair<int, int>, torch::Tensor> priors_cache_;
};
TORCH_MODULE(SsdDetector);

// Parses the config (model/config.h: a preset name, an object, or {"preset", ...overrides}),
// builds the detector and initialises it with InitializeWeights(seed).
SsdDetector BuildDetector(const nlohmann::json& config_or_preset, int64_t seed = 0);
SsdDetector BuildDetector(const ModelConfig& config, int64_t seed = 0);

// Converts every 4-d parameter (the conv weights) to the channels-last memory format in
// place: convolutions then run in NHWC, which oneDNN executes faster on this CPU
// (benchmarks/README.md, "Channels-last"). Values are unchanged; conv outputs agree with
// the contiguous layout to float rounding.
void ToChannelsLast(torch::nn::Module& module);

// The backbone alone (e.g. for a classification pretrain stage), initialised like the
// detector's: forward returns its source maps; out_channels() gives their channels.
std::shared_ptr<BackboneImpl> BuildBackbone(const ModelConfig& config, int64_t seed = 0);

}  // namespace scratchdet::model
