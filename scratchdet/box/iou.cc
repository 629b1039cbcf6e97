#include "scratchdet/box/iou.h"

#include <limits>

#include "scratchdet/box/tensor_checks.h"

namespace scratchdet::box {

torch::Tensor BoxIou(const torch::Tensor& a, const torch::Tensor& b, IouConvention convention) {
  CheckBoxes(a, "BoxIou: a");
  CheckBoxes(b, "BoxIou: b");
  const double extra = convention == IouConvention::kVocPixel ? 1.0 : 0.0;
  // Extent of a box or of an intersection; negative extents (no overlap, inverted box) are 0.
  auto extent = [extra](const torch::Tensor& lo, const torch::Tensor& hi) {
    return (hi - lo + extra).clamp_min(0);
  };
  const torch::Tensor area_a =
      extent(a.select(1, 0), a.select(1, 2)) * extent(a.select(1, 1), a.select(1, 3));  // [N]
  const torch::Tensor area_b =
      extent(b.select(1, 0), b.select(1, 2)) * extent(b.select(1, 1), b.select(1, 3));  // [M]
  const torch::Tensor lo =
      torch::max(a.unsqueeze(1).narrow(2, 0, 2), b.unsqueeze(0).narrow(2, 0, 2));
  const torch::Tensor hi =
      torch::min(a.unsqueeze(1).narrow(2, 2, 2), b.unsqueeze(0).narrow(2, 2, 2));
  const torch::Tensor wh = (hi - lo + extra).clamp_min(0);  // [N,M,2]
  const torch::Tensor inter = wh.select(2, 0) * wh.select(2, 1);
  const torch::Tensor uni = area_a.unsqueeze(1) + area_b.unsqueeze(0) - inter;
  // An empty union implies an empty intersection, so 0 / tiny = 0 and the gradient stays finite.
  return inter / uni.clamp_min(std::numeric_limits<float>::min());
}

}  // namespace scratchdet::box
