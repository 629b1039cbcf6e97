#include "scratchdet/eval/voc_result_table.h"

#include <fmt/format.h>

#include <algorithm>

namespace scratchdet::eval {

std::string FormatVocResultTable(const VocEvalResult& result) {
  size_t width = 5;  // "class"
  for (const auto& c : result.per_class) width = std::max(width, c.name.size());
  std::string out = fmt::format("{:<{}}  {:>9}  {:>6}  {:>7}  {:>6}  {:>7}\n", "class", width,
                                "AP (%)", "npos", "dets", "TP", "FP");
  for (const auto& c : result.per_class) {
    const std::string ap = c.ap.has_value() ? fmt::format("{:.2f}", 100.0 * *c.ap) : "undefined";
    out += fmt::format("{:<{}}  {:>9}  {:>6}  {:>7}  {:>6}  {:>7}\n", c.name, width, ap, c.npos,
                       c.num_detections, c.num_tp, c.num_fp);
  }
  const size_t defined = result.per_class.size() - result.excluded_classes.size();
  if (result.mean_ap.has_value()) {
    out += fmt::format("{:<{}}  {:>9.2f}  over {} of {} classes", "mAP", width,
                       100.0 * *result.mean_ap, defined, result.per_class.size());
  } else {
    out += fmt::format("{:<{}}  {:>9}  no class has non-difficult ground truth", "mAP", width,
                       "undefined");
  }
  if (!result.excluded_classes.empty())
    out += fmt::format("; undefined (no ground truth, excluded): {}",
                       fmt::join(result.excluded_classes, ", "));
  const auto& o = result.options;
  out += fmt::format("\nmetric {}, IoU {} {} ({}), {}\n", ToString(o.metric),
                     o.threshold_mode == IouThresholdMode::kDevkit ? ">=" : ">", o.iou_threshold,
                     ToString(o.threshold_mode), o.plus_one ? "+1 pixel" : "no +1 pixel");
  return out;
}

}  // namespace scratchdet::eval
