#include "scratchdet/data/bad_sample.h"

namespace scratchdet::data {

OnBadSample ParseOnBadSample(const std::string& text) {
  if (text == "error") return OnBadSample::kError;
  if (text == "skip") return OnBadSample::kSkip;
  Fail("on_bad_sample must be 'error' or 'skip', got '{}'", text);
}

const char* ReasonName(BadSampleReason reason) {
  switch (reason) {
    case BadSampleReason::kMissingAnnotation:
      return "missing_annotation";
    case BadSampleReason::kInvalidAnnotation:
      return "invalid_annotation";
    case BadSampleReason::kUnknownClass:
      return "unknown_class";
    case BadSampleReason::kEmptyAnnotation:
      return "empty_annotation";
    case BadSampleReason::kMissingImage:
      return "missing_image";
    case BadSampleReason::kCorruptImage:
      return "corrupt_image";
    case BadSampleReason::kDuplicateImage:
      return "duplicate_image";
  }
  return "unknown";
}

void BadSampleLog::Record(BadSampleReason reason, const std::string& key,
                          const std::string& message) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!seen_.insert(key).second) return;
  ++counts_[ReasonName(reason)];
  if (examples_.size() < kMaxExamples) examples_.push_back(message);
}

std::map<std::string, int64_t> BadSampleLog::Counts() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return counts_;
}

int64_t BadSampleLog::Total() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int64_t>(seen_.size());
}

std::vector<std::string> BadSampleLog::Examples() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return examples_;
}

}  // namespace scratchdet::data
