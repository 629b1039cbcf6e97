// Evaluation of a detector on a run's test set: VOC AP (voc07 / area) or COCO AP.
#pragma once

#include <torch/types.h>

#include <nlohmann/json.hpp>

#include <functional>
#include <stdexcept>

#include "scratchdet/engine/data_setup.h"
#include "scratchdet/engine/train_config.h"
#include "scratchdet/model/ssd.h"

namespace scratchdet::engine {

class DataParallelGroup;

// Runs the detector (eval mode, no grad) over data.test with the test-time transform, keeps
// the paper's post-processing (threshold 0.01, NMS 0.45, top-k 400, keep 200) and returns
// metrics: {"mAP", "per_class_ap", "pr_curves", "voc" | "coco", "eval_images_per_second",
// "num_test_images"}. mAP is a fraction; for the COCO metric it is AP@[.5:.95].
// `stop_requested`, when given, is polled between batches; when it returns true the
// evaluation stops with EvaluationInterrupted (Ctrl-C works during evaluation too).
// With a data-parallel `group`, every rank calls it with the same model: test batch k runs on
// rank k mod world size, the detections are gathered, and every rank returns the metrics of
// the whole test set -- the same as one process computes (each batch is the same batch).
nlohmann::json EvaluateDetector(model::SsdDetectorImpl& detector, const DataSetup& data,
                                const TrainConfig& config, const torch::Device& device,
                                const std::function<bool()>& stop_requested = {},
                                DataParallelGroup* group = nullptr);

struct EvaluationInterrupted : std::runtime_error {
  EvaluationInterrupted() : std::runtime_error("evaluation interrupted by a stop signal") {}
};

}  // namespace scratchdet::engine
