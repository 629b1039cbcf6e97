// The interface between datasets on disk and the loader / evaluator.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "scratchdet/data/bad_sample.h"
#include "scratchdet/data/sample.h"

namespace scratchdet::data {

// Options every reader shares.
struct DatasetOptions {
  OnBadSample on_bad_sample = OnBadSample::kError;
  // An annotation with no objects is a legitimate SSD training image (it only contributes
  // negatives), but in VOC it is far more often a broken export, so by default it is reported
  // as a bad input; set this to keep such images (COCO evaluation sets need it: images without
  // objects still produce false positives).
  bool allow_empty = false;
};

class DetectionDataset {
 public:
  virtual ~DetectionDataset() = default;
  DetectionDataset(const DetectionDataset&) = delete;
  DetectionDataset& operator=(const DetectionDataset&) = delete;

  // Number of usable samples (after construction-time skips).
  virtual size_t size() const = 0;
  // Class index c -> name; a model trained on it has class_names().size() + 1 outputs.
  virtual const std::vector<std::string>& class_names() const = 0;
  // The annotation and the decoded image. Thread-safe. Throws BadSampleError when the image
  // is missing, undecodable, or not the annotated size.
  virtual Sample Load(size_t index) const = 0;
  // The annotation only (image left empty, width/height from the annotation), without
  // touching the image file: what the evaluator needs.
  virtual Sample AnnotationOnly(size_t index) const = 0;

  // Load() under the bad-sample policy: under kSkip a bad image is counted in bad_samples()
  // and nullopt returned; under kError the BadSampleError propagates.
  std::optional<Sample> TryLoad(size_t index) const;

  OnBadSample on_bad_sample() const { return on_bad_sample_; }
  // Samples skipped so far, at construction (annotations) and by TryLoad (images).
  const BadSampleLog& bad_samples() const { return bad_samples_; }

 protected:
  explicit DetectionDataset(OnBadSample on_bad_sample) : on_bad_sample_(on_bad_sample) {}
  // For readers meeting a bad sample: rethrows under kError, records it under kSkip.
  void HandleBadSample(const BadSampleError& error, const std::string& key) const;

 private:
  OnBadSample on_bad_sample_;
  mutable BadSampleLog bad_samples_;
};

// A dataset whose annotations are all read at construction and kept in memory (VOC, COCO):
// Load() only decodes the image.
class InMemoryDataset : public DetectionDataset {
 public:
  size_t size() const override { return records_.size(); }
  const std::vector<std::string>& class_names() const override { return class_names_; }
  Sample Load(size_t index) const override;
  Sample AnnotationOnly(size_t index) const override;

 protected:
  InMemoryDataset(OnBadSample on_bad_sample, std::vector<std::string> class_names)
      : DetectionDataset(on_bad_sample), class_names_(std::move(class_names)) {}
  // Adds a record (image empty); fails on a duplicate image id.
  void AddRecord(Sample record);
  const Sample& record(size_t index) const { return records_.at(index); }
  // For readers that learn their classes from the file they read (COCO).
  void SetClassNames(std::vector<std::string> names) { class_names_ = std::move(names); }

 private:
  std::vector<std::string> class_names_;
  std::vector<Sample> records_;
  std::unordered_set<std::string> ids_;
};

// Decodes an image file as BGR uint8; throws BadSampleError (kMissingImage / kCorruptImage)
// naming the file. expected_width/height (0 = unchecked) is the annotated size: boxes are only
// meaningful on an image of that size.
cv::Mat DecodeImage(const std::string& path, int expected_width = 0, int expected_height = 0);

// Ground truths of every sample, without decoding images (for evaluation).
std::vector<Sample> LoadGroundTruths(const DetectionDataset& dataset);

}  // namespace scratchdet::data
