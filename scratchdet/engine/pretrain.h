// The "pretrained" rows of paper Table B: before detection training, the detector's own
// backbone is trained as an image classifier (or loaded from torchvision ImageNet weights),
// then the whole detector is fine-tuned. The paper used ImageNet; on this machine the mini
// profile classifies object crops of the shapes training set, which gives the backbone the
// same kind of head start: features learned for classification, not for detection.
#pragma once

#include <torch/types.h>

#include <nlohmann/json.hpp>

#include "scratchdet/engine/data_setup.h"
#include "scratchdet/engine/train_config.h"
#include "scratchdet/model/ssd.h"

namespace scratchdet::engine {

// Trains detector.backbone() in place (global average pooling of its last source + a
// linear classifier that is discarded afterwards) per config.pretrain, or imports
// torchvision weights. Returns a summary for the result JSON: source, iterations, final
// loss, classifier accuracy on the last batches. Deterministic for config.seed.
nlohmann::json PretrainBackbone(model::SsdDetectorImpl& detector, const DataSetup& data,
                                const TrainConfig& config, const torch::Device& device,
                                bool quiet);

}  // namespace scratchdet::engine
