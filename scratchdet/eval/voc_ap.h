// Average precision of one class from its precision/recall curve, as the VOC devkits define it.
#pragma once

#include <string>
#include <vector>

namespace scratchdet::eval {

enum class VocApMetric {
  // VOC2007: 11-point interpolation, the paper's metric (Sec. 4, VOC2007 test).
  kVoc07,
  // VOC2010 and later: area under the monotone (upper-envelope) precision curve.
  kArea,
};

// "voc07" / "area"; ParseVocApMetric throws scratchdet::Error on anything else.
std::string ToString(VocApMetric metric);
VocApMetric ParseVocApMetric(const std::string& name);

// `recall` (non-decreasing) and `precision` are the curve points in detection order (same
// length; empty when the class has no detections, giving AP 0).
//   kVoc07: mean over t = 0, 0.1, ..., 1 of max{precision_i : recall_i >= t}, 0 when no point
//           reaches t. t is k/10.0 (the double nearest to the decimal), so a recall of exactly
//           3/10 reaches t = 0.3; numpy's arange(0, 1.1, 0.1) gives 0.30000000000000004 there.
//   kArea:  with recall padded by 0 and 1 and precision by 0 at both ends, precision is replaced
//           by its running maximum from the right and AP = sum (r_{i+1} - r_i) * p_{i+1}.
// Throws scratchdet::Error when the lengths differ.
double VocAveragePrecision(const std::vector<double>& recall, const std::vector<double>& precision,
                           VocApMetric metric);

}  // namespace scratchdet::eval
