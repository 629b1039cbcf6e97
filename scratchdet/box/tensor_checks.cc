#include "scratchdet/box/tensor_checks.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "scratchdet/core/error.h"

namespace scratchdet::box {

std::string ShapeString(const torch::Tensor& t) {
  if (!t.defined()) return "undefined";
  return fmt::format("[{}]", fmt::join(t.sizes(), ", "));
}

void CheckBoxes(const torch::Tensor& t, const std::string& what) {
  if (!t.defined() || t.dim() != 2 || t.size(1) != 4)
    Fail("{}: expected boxes [N,4], got {}", what, ShapeString(t));
  if (!t.is_floating_point())
    Fail("{}: expected floating-point boxes, got {}", what, c10::toString(t.scalar_type()));
}

void CheckBoxLike(const torch::Tensor& t, const std::string& what) {
  if (!t.defined() || t.dim() < 1 || t.size(-1) != 4)
    Fail("{}: expected [..., 4], got {}", what, ShapeString(t));
  if (!t.is_floating_point())
    Fail("{}: expected a floating-point tensor, got {}", what, c10::toString(t.scalar_type()));
}

void CheckVariances(const std::vector<double>& variances, const std::string& what) {
  if (variances.size() != 4)
    Fail("{}: expected 4 variances, got {} ({})", what, variances.size(),
         fmt::join(variances, ", "));
  for (double v : variances)
    if (!(v > 0)) Fail("{}: variances must be > 0, got {}", what, fmt::join(variances, ", "));
}

}  // namespace scratchdet::box
