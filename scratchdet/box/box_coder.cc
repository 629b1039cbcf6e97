#include "scratchdet/box/box_coder.h"

#include <string>

#include "scratchdet/box/tensor_checks.h"
#include "scratchdet/core/error.h"

namespace scratchdet::box {

namespace {

// Checks `boxes` [..., P, 4] against `priors` [P, 4].
void CheckAgainstPriors(const torch::Tensor& boxes, const torch::Tensor& priors,
                        const std::vector<double>& variances, const std::string& what) {
  CheckBoxLike(boxes, what);
  CheckBoxes(priors, what + " priors");
  CheckVariances(variances, what);
  if (boxes.dim() < 2 || boxes.size(-2) != priors.size(0))
    Fail("{}: expected [..., {}, 4] for {} priors, got {}", what, priors.size(0), priors.size(0),
         ShapeString(boxes));
}

}  // namespace

torch::Tensor CenterToCorner(const torch::Tensor& boxes) {
  CheckBoxLike(boxes, "CenterToCorner");
  const torch::Tensor centre = boxes.narrow(-1, 0, 2);
  const torch::Tensor half = boxes.narrow(-1, 2, 2) / 2;
  return torch::cat({centre - half, centre + half}, -1);
}

torch::Tensor CornerToCenter(const torch::Tensor& boxes) {
  CheckBoxLike(boxes, "CornerToCenter");
  const torch::Tensor lo = boxes.narrow(-1, 0, 2);
  const torch::Tensor hi = boxes.narrow(-1, 2, 2);
  return torch::cat({(lo + hi) / 2, hi - lo}, -1);
}

torch::Tensor EncodeBoxes(const torch::Tensor& matched_xyxy, const torch::Tensor& priors,
                          const std::vector<double>& variances) {
  CheckAgainstPriors(matched_xyxy, priors, variances, "EncodeBoxes");
  const torch::Tensor box = CornerToCenter(matched_xyxy);
  const torch::Tensor prior_centre = priors.narrow(1, 0, 2);
  const torch::Tensor prior_size = priors.narrow(1, 2, 2);
  const torch::Tensor centre_var = torch::tensor({variances[0], variances[1]}, priors.options());
  const torch::Tensor size_var = torch::tensor({variances[2], variances[3]}, priors.options());
  const torch::Tensor centre = (box.narrow(-1, 0, 2) - prior_centre) / (prior_size * centre_var);
  const torch::Tensor size = torch::log(box.narrow(-1, 2, 2) / prior_size) / size_var;
  return torch::cat({centre, size}, -1);
}

torch::Tensor DecodeBoxes(const torch::Tensor& loc, const torch::Tensor& priors,
                          const std::vector<double>& variances) {
  CheckAgainstPriors(loc, priors, variances, "DecodeBoxes");
  const torch::Tensor prior_centre = priors.narrow(1, 0, 2);
  const torch::Tensor prior_size = priors.narrow(1, 2, 2);
  const torch::Tensor centre_var = torch::tensor({variances[0], variances[1]}, priors.options());
  const torch::Tensor size_var = torch::tensor({variances[2], variances[3]}, priors.options());
  const torch::Tensor centre = prior_centre + loc.narrow(-1, 0, 2) * centre_var * prior_size;
  const torch::Tensor size = prior_size * torch::exp(loc.narrow(-1, 2, 2) * size_var);
  return CenterToCorner(torch::cat({centre, size}, -1));
}

}  // namespace scratchdet::box
