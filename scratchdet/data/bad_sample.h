// What happens to a bad input (a missing or corrupt image, a malformed or invalid annotation):
// by default it stops with an Error naming the file; with OnBadSample::kSkip the sample is left
// out and counted per reason, and the counts go into the training results so that nothing is
// skipped silently.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "scratchdet/core/error.h"

namespace scratchdet::data {

enum class OnBadSample { kError, kSkip };

// "error" | "skip"; throws Error otherwise.
OnBadSample ParseOnBadSample(const std::string& text);

enum class BadSampleReason {
  kMissingAnnotation,  // the image list names an annotation file that does not exist
  kInvalidAnnotation,  // malformed XML/JSON, missing fields, box outside image or xmax < xmin
  kUnknownClass,       // an object's class is not in the dataset's class list
  kEmptyAnnotation,    // no (usable) objects, and allow_empty is off
  kMissingImage,       // image file absent
  kCorruptImage,       // image file empty, undecodable, truncated, or not the annotated size
  kDuplicateImage,     // an image id listed a second time in the image list(s)
};

// Stable snake_case name used in results ("missing_image", ...).
const char* ReasonName(BadSampleReason reason);

// An Error that also says which kind of bad input it is (so a skip can be counted).
class BadSampleError : public Error {
 public:
  BadSampleError(BadSampleReason reason, const std::string& message)
      : Error(message), reason_(reason) {}
  BadSampleReason reason() const { return reason_; }

 private:
  BadSampleReason reason_;
};

template <typename... Args>
[[noreturn]] void FailSample(BadSampleReason reason, fmt::format_string<Args...> format,
                             Args&&... args) {
  throw BadSampleError(reason, fmt::format(format, std::forward<Args>(args)...));
}

// Thread-safe record of skipped samples; a sample (keyed by its file) is counted once however
// often it is met (a corrupt image is met once per epoch).
class BadSampleLog {
 public:
  void Record(BadSampleReason reason, const std::string& key, const std::string& message);
  // Reason name -> number of distinct samples skipped for it; reasons with none are absent.
  std::map<std::string, int64_t> Counts() const;
  int64_t Total() const;
  // The first few messages, for a log line or the results file.
  std::vector<std::string> Examples() const;

 private:
  static constexpr size_t kMaxExamples = 20;
  mutable std::mutex mutex_;
  std::set<std::string> seen_;
  std::map<std::string, int64_t> counts_;
  std::vector<std::string> examples_;
};

}  // namespace scratchdet::data
