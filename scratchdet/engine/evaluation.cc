#include "scratchdet/engine/evaluation.h"

#include <fmt/format.h>
#include <torch/utils.h>

#include <algorithm>
#include <cstring>
#include <chrono>
#include <optional>
#include <unordered_map>

#include "scratchdet/core/error.h"
#include "scratchdet/core/json_text.h"
#include "scratchdet/data/loader.h"
#include "scratchdet/data/pixel_convention.h"
#include "scratchdet/engine/data_parallel.h"
#include "scratchdet/engine/image_detections.h"
#include "scratchdet/eval/coco_eval.h"
#include "scratchdet/eval/voc_eval.h"

namespace scratchdet::engine {

using nlohmann::json;

namespace {

// One detection in the original image's continuous pixel coordinates.
struct PixelDetection {
  size_t image = 0;
  int class_index = 0;
  double score = 0;
  double x1 = 0, y1 = 0, x2 = 0, y2 = 0;
};

// Runs the detector over the test set: the loader decodes and transforms (test transform,
// dataset order, one pass) on its worker threads while the network runs. `scored[i]` says
// whether image i was run. Under data.on_bad_sample=skip the loader replaces a bad image by
// the next one; that image's second pass is dropped here, so no image is scored twice.
std::vector<PixelDetection> Detect(model::SsdDetectorImpl& detector, const DataSetup& data,
                                   const TrainConfig& config, const torch::Device& device,
                                   const std::vector<data::Sample>& annotations,
                                   const std::function<bool()>& stop_requested,
                                   DataParallelGroup* group, std::vector<bool>& scored) {
  torch::NoGradGuard no_grad;
  scored.assign(annotations.size(), false);
  detector.eval();
  const int size = config.input_size;
  std::unordered_map<std::string, size_t> index_of;
  for (size_t i = 0; i < annotations.size(); ++i) index_of[annotations[i].image_id] = i;

  data::DataLoaderOptions options;
  options.batch_size = config.eval.batch_size;
  options.input_size = size;
  options.workers = config.run.workers;
  options.train = false;
  data::DataLoader loader(data.test, options);
  std::vector<PixelDetection> out;
  for (int64_t k = 0;; ++k) {
    std::optional<data::Batch> batch = loader.Next();
    if (!batch) break;
    if (group && k % group->world_size() != group->rank()) continue;  // another rank's batch
    if (stop_requested && stop_requested()) throw EvaluationInterrupted();
    const std::vector<box::Detections> detections = detector.Predict(batch->images.to(device));
    for (int64_t b = 0; b < batch->size(); ++b) {
      const size_t image = index_of.at(batch->image_ids[b]);
      if (scored[image]) continue;
      scored[image] = true;
      const auto [height, width] = batch->original_sizes[b];
      for (const ImageDetection& d : ToImageDetections(detections[b], width, height))
        out.push_back({image, d.class_index, d.score, d.x1, d.y1, d.x2, d.y2});
    }
  }
  if (group) {
    // Every rank's detections and scored images, in the order one process lists them (images
    // in dataset order, each image's detections as Predict gave them).
    std::string mine(reinterpret_cast<const char*>(out.data()), out.size() * sizeof(PixelDetection));
    std::string flags(scored.size(), '\0');
    for (size_t i = 0; i < scored.size(); ++i) flags[i] = scored[i] ? 1 : 0;
    const std::vector<std::string> all = group->AllGather(mine);
    const std::vector<std::string> all_flags = group->AllGather(flags);
    out.clear();
    for (const std::string& bytes : all) {
      const size_t n = bytes.size() / sizeof(PixelDetection);
      const size_t first = out.size();
      out.resize(first + n);
      std::memcpy(static_cast<void*>(out.data() + first), bytes.data(), n * sizeof(PixelDetection));
    }
    std::stable_sort(out.begin(), out.end(), [](const PixelDetection& a, const PixelDetection& b) {
      return a.image < b.image;
    });
    for (const std::string& f : all_flags)
      for (size_t i = 0; i < scored.size() && i < f.size(); ++i) scored[i] = scored[i] || f[i] != 0;
  }
  return out;
}

// Precision/recall curve resampled at <= 101 recall points for the report's plots.
json ResampledCurve(const std::vector<double>& recall, const std::vector<double>& precision) {
  json r = json::array(), p = json::array();
  const size_t n = recall.size();
  const size_t step = std::max<size_t>(1, n / 100);
  for (size_t i = 0; i < n; i += step) {
    r.push_back(recall[i]);
    p.push_back(precision[i]);
  }
  if (n > 0 && (n - 1) % step != 0) {
    r.push_back(recall.back());
    p.push_back(precision.back());
  }
  return {{"recall", r}, {"precision", p}};
}

json VocMetrics(const DataSetup& data, const TrainConfig& config,
                const std::vector<data::Sample>& annotations,
                const std::vector<PixelDetection>& detections) {
  std::vector<eval::VocGroundTruth> gts;
  for (const data::Sample& s : annotations)
    for (size_t k = 0; k < s.boxes.size(); ++k) {
      const auto v =
          data::ContinuousToVoc(s.boxes[k][0], s.boxes[k][1], s.boxes[k][2], s.boxes[k][3]);
      gts.push_back(
          {s.image_id, static_cast<int>(s.labels[k]), v[0], v[1], v[2], v[3], s.difficult[k] != 0});
    }
  std::vector<eval::VocDetection> dets;
  dets.reserve(detections.size());
  for (const PixelDetection& d : detections) {
    auto v = data::ContinuousToVoc(d.x1, d.y1, d.x2, d.y2);
    // A sub-pixel box can map to xmax < xmin in the +1 convention; keep it valid.
    v[2] = std::max(v[2], v[0]);
    v[3] = std::max(v[3], v[1]);
    dets.push_back({annotations[d.image].image_id, d.class_index, d.score, v[0], v[1], v[2], v[3]});
  }
  eval::VocEvalOptions options;
  options.metric = eval::ParseVocApMetric(config.eval.metric);
  const eval::VocEvalResult result = EvaluateVoc(data.class_names, gts, dets, options);
  json metrics;
  metrics["mAP"] = result.mean_ap ? json(*result.mean_ap) : json();
  metrics["per_class_ap"] = json::object();
  metrics["pr_curves"] = json::object();
  for (const eval::VocClassResult& c : result.per_class) {
    metrics["per_class_ap"][c.name] = c.ap ? json(*c.ap) : json();
    metrics["pr_curves"][c.name] = ResampledCurve(c.recall, c.precision);
  }
  metrics["voc"] = eval::ToJson(result);
  return metrics;
}

json CocoMetrics(const DataSetup& data, const std::vector<data::Sample>& annotations,
                 const std::vector<PixelDetection>& detections) {
  std::vector<eval::CocoGroundTruth> gts;
  std::vector<eval::CocoDetection> dets;
  for (size_t i = 0; i < annotations.size(); ++i) {
    const data::Sample& s = annotations[i];
    for (size_t k = 0; k < s.boxes.size(); ++k) {
      eval::CocoGroundTruth g;
      g.image_id = static_cast<int64_t>(i);
      g.category_id = s.labels[k];
      g.x = s.boxes[k][0];
      g.y = s.boxes[k][1];
      g.w = s.boxes[k][2] - s.boxes[k][0];
      g.h = s.boxes[k][3] - s.boxes[k][1];
      g.area = g.w * g.h;
      g.iscrowd = !s.crowd.empty() && s.crowd[k] != 0;
      gts.push_back(g);
    }
  }
  for (const PixelDetection& d : detections) {
    eval::CocoDetection c;
    c.image_id = static_cast<int64_t>(d.image);
    c.category_id = d.class_index;
    c.score = d.score;
    c.x = d.x1;
    c.y = d.y1;
    c.w = d.x2 - d.x1;
    c.h = d.y2 - d.y1;
    dets.push_back(c);
  }
  const eval::CocoEvalResult result = eval::EvaluateCoco(gts, dets);
  json metrics;
  metrics["coco"] = eval::ToJson(result);
  metrics["mAP"] = result.stats[0] >= 0 ? json(result.stats[0]) : json();
  metrics["per_class_ap"] = json::object();
  for (size_t c = 0; c < data.class_names.size(); ++c) {
    const auto it = result.per_category_ap.find(static_cast<int64_t>(c));
    metrics["per_class_ap"][data.class_names[c]] =
        it != result.per_category_ap.end() && it->second ? json(*it->second) : json();
  }
  return metrics;
}

}  // namespace

json EvaluateDetector(model::SsdDetectorImpl& detector, const DataSetup& data,
                      const TrainConfig& config, const torch::Device& device,
                      const std::function<bool()>& stop_requested, DataParallelGroup* group) {
  const auto start = std::chrono::steady_clock::now();
  const std::vector<data::Sample> all = data::LoadGroundTruths(*data.test);
  std::vector<bool> scored;
  std::vector<PixelDetection> detections =
      Detect(detector, data, config, device, all, stop_requested, group, scored);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // A test image that could not be loaded (skip mode) is left out of the ground truth too:
  // its objects would otherwise count as misses of a detector that never saw it.
  std::vector<data::Sample> annotations;
  std::vector<size_t> new_index(all.size(), 0);
  json skipped = json::array();
  for (size_t i = 0; i < all.size(); ++i) {
    if (scored[i]) {
      new_index[i] = annotations.size();
      annotations.push_back(all[i]);
    } else {
      skipped.push_back(all[i].image_id);
    }
  }
  for (PixelDetection& d : detections) d.image = new_index[d.image];
  if (!skipped.empty())
    fmt::print(stderr, "warning: {} test image(s) could not be loaded and are left out of the "
               "evaluation: {}\n", skipped.size(), JsonText(skipped));
  json metrics = config.eval.metric == "coco" ? CocoMetrics(data, annotations, detections)
                                              : VocMetrics(data, config, annotations, detections);
  metrics["num_test_images"] = annotations.size();
  metrics["skipped_test_images"] = skipped;
  metrics["num_detections"] = detections.size();
  metrics["eval_images_per_second"] = annotations.size() / std::max(seconds, 1e-9);
  return metrics;
}

}  // namespace scratchdet::engine
