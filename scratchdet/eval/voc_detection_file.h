// VOC devkit detection files (results/VOC2007/Main/comp4_det_test_<class>.txt).
#pragma once

#include <string>
#include <unordered_set>
#include <vector>

#include "scratchdet/eval/voc_eval.h"

namespace scratchdet::eval {

// Reads one class's file: one detection per line, `<image_id> <score> <xmin> <ymin> <xmax>
// <ymax>`, separated by spaces or tabs, in 1-based pixel coordinates (the annotations'
// convention, so no conversion before evaluation). Blank lines are skipped. Every detection
// gets `class_index`, in file order (which decides rank among equal scores). Throws
// scratchdet::Error naming the file and line for a wrong field count, a non-numeric or
// non-finite field, an inverted box, or an image id not in `image_set`.
std::vector<VocDetection> ReadVocDetectionFile(const std::string& path, int class_index,
                                               const std::unordered_set<std::string>& image_set);

}  // namespace scratchdet::eval
