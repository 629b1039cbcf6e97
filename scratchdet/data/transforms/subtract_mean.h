// Converts to float and subtracts the BGR mean pixel (104, 117, 123), SSD's only input
// normalisation (no division by a standard deviation).
#pragma once

#include <opencv2/core/types.hpp>

#include "scratchdet/data/transforms/transform.h"

namespace scratchdet::data {

inline const cv::Scalar kSsdMeanBgr(104, 117, 123);

class SubtractMean : public Transform {
 public:
  explicit SubtractMean(cv::Scalar mean = kSsdMeanBgr) : mean_(mean) {}
  AnnotatedImage Apply(AnnotatedImage input, Rng& rng) const override;
  std::string name() const override { return "subtract_mean"; }

 private:
  cv::Scalar mean_;
};

}  // namespace scratchdet::data
