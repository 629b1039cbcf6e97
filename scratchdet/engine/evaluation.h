// Evaluation of a detector on a run's test set: VOC AP (voc07 / area) or COCO AP.
#pragma once

#include <torch/types.h>

#include <nlohmann/json.hpp>

#include "scratchdet/engine/data_setup.h"
#include "scratchdet/engine/train_config.h"
#include "scratchdet/model/ssd.h"

namespace scratchdet::engine {

// Runs the detector (eval mode, no grad) over data.test with the test-time transform, keeps
// the paper's post-processing (threshold 0.01, NMS 0.45, top-k 400, keep 200) and returns
// metrics: {"mAP", "per_class_ap", "pr_curves", "voc" | "coco", "eval_images_per_second",
// "num_test_images"}. mAP is a fraction; for the COCO metric it is AP@[.5:.95].
nlohmann::json EvaluateDetector(model::SsdDetectorImpl& detector, const DataSetup& data,
                                const TrainConfig& config, const torch::Device& device);

}  // namespace scratchdet::engine
