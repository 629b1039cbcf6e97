// Human-readable table of a VOC evaluation (CLI output and training logs).
#pragma once

#include <string>

#include "scratchdet/eval/voc_eval.h"

namespace scratchdet::eval {

// One aligned row per class (AP in %, npos, detections, TP, FP; "undefined" where the class has
// no non-difficult ground truth), then the mAP line naming any excluded classes, then the
// options used. Ends with a newline.
std::string FormatVocResultTable(const VocEvalResult& result);

}  // namespace scratchdet::eval
