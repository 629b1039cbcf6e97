// The single place where VOC's 1-based inclusive pixel boxes meet the library's 0-based
// continuous boxes (sample.h).
//
// VOC: a box covering pixel columns xmin..xmax (1-based, inclusive) is xmax - xmin + 1 pixels
// wide; the devkit's IoU uses that "+1" width. Continuous: the same pixels are [xmin-1, xmax],
// width xmax - (xmin-1) = xmax - xmin + 1. So the conversion is
//   to continuous:   x1 = xmin - 1, y1 = ymin - 1, x2 = xmax, y2 = ymax
//   back to VOC:     xmin = x1 + 1, ymin = y1 + 1, xmax = x2, ymax = y2
// and both IoU conventions agree on the pixels a box covers. Detections (normalised xyxy of the
// network) are mapped to the original image as x * width, y * height (continuous) and then
// written back with ContinuousToVoc before the VOC evaluator or a devkit file sees them.
#pragma once

#include <array>

namespace scratchdet::data {

// (xmin, ymin, xmax, ymax) 1-based inclusive -> (x1, y1, x2, y2) continuous.
inline std::array<double, 4> VocToContinuous(double xmin, double ymin, double xmax, double ymax) {
  return {xmin - 1.0, ymin - 1.0, xmax, ymax};
}

// (x1, y1, x2, y2) continuous -> (xmin, ymin, xmax, ymax) 1-based inclusive.
inline std::array<double, 4> ContinuousToVoc(double x1, double y1, double x2, double y2) {
  return {x1 + 1.0, y1 + 1.0, x2, y2};
}

}  // namespace scratchdet::data
