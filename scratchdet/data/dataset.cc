#include "scratchdet/data/dataset.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <opencv2/imgcodecs.hpp>

namespace scratchdet::data {

std::optional<Sample> DetectionDataset::TryLoad(size_t index) const {
  try {
    return Load(index);
  } catch (const BadSampleError& error) {
    HandleBadSample(error, AnnotationOnly(index).image_path);
    return std::nullopt;
  }
}

void DetectionDataset::HandleBadSample(const BadSampleError& error, const std::string& key) const {
  if (on_bad_sample_ == OnBadSample::kError) throw error;
  bad_samples_.Record(error.reason(), key, error.what());
}

Sample InMemoryDataset::Load(size_t index) const {
  Sample sample = record(index);
  sample.image = DecodeImage(sample.image_path, sample.width, sample.height);
  return sample;
}

Sample InMemoryDataset::AnnotationOnly(size_t index) const { return record(index); }

void InMemoryDataset::AddRecord(Sample record) {
  // Ids are checked for uniqueness because the evaluator matches detections to ground truth
  // by image id.
  if (!ids_.insert(record.image_id).second)
    Fail("{}: image id '{}' appears twice in the dataset", record.image_path, record.image_id);
  records_.push_back(std::move(record));
}

namespace {

// A JPEG cut short still decodes (libjpeg fills the missing rows with grey and only warns),
// but its end-of-image marker FF D9 is gone. Inside the entropy-coded data an FF byte is
// always followed by 00 or a restart marker, so FF D9 near the end means the file is whole;
// a little trailing padding after it is allowed.
bool IsTruncatedJpeg(const std::vector<uchar>& bytes) {
  if (bytes.size() < 4 || bytes[0] != 0xFF || bytes[1] != 0xD8) return false;  // not a JPEG
  const size_t tail = std::min<size_t>(bytes.size() - 2, 1024);
  for (size_t k = 0; k < tail; ++k) {
    const size_t i = bytes.size() - 2 - k;
    if (bytes[i] == 0xFF && bytes[i + 1] == 0xD9) return false;
  }
  return true;
}

}  // namespace

cv::Mat DecodeImage(const std::string& path, int expected_width, int expected_height) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error))
    FailSample(BadSampleReason::kMissingImage, "{}: image file not found", path);
  // imdecode from our own buffer rather than imread: imread cannot tell "missing" from
  // "corrupt", and reading the bytes ourselves lets the message say which.
  std::ifstream in(path, std::ios::binary);
  std::vector<uchar> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.empty()) FailSample(BadSampleReason::kCorruptImage, "{}: image file is empty", path);
  if (IsTruncatedJpeg(bytes))
    FailSample(BadSampleReason::kCorruptImage,
               "{}: JPEG is truncated ({} bytes, no end-of-image marker)", path, bytes.size());
  cv::Mat image = cv::imdecode(bytes, cv::IMREAD_COLOR);
  if (image.empty())
    FailSample(BadSampleReason::kCorruptImage,
               "{}: cannot decode image ({} bytes; not a valid JPEG/PNG?)", path, bytes.size());
  if ((expected_width > 0 && image.cols != expected_width) ||
      (expected_height > 0 && image.rows != expected_height))
    FailSample(BadSampleReason::kCorruptImage,
               "{}: image is {}x{} but its annotation says {}x{} (boxes would not match)", path,
               image.cols, image.rows, expected_width, expected_height);
  return image;
}

std::vector<Sample> LoadGroundTruths(const DetectionDataset& dataset) {
  std::vector<Sample> samples;
  samples.reserve(dataset.size());
  for (size_t i = 0; i < dataset.size(); ++i) samples.push_back(dataset.AnnotationOnly(i));
  return samples;
}

}  // namespace scratchdet::data
