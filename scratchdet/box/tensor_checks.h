// Argument checks shared by the box functions: each throws scratchdet::Error whose message
// starts with `what` (the function and argument) and states the expected and actual shape.
#pragma once

#include <torch/types.h>

#include <string>
#include <vector>

namespace scratchdet::box {

// "[2, 8732, 4]"
std::string ShapeString(const torch::Tensor& t);

// A floating-point [N,4] tensor.
void CheckBoxes(const torch::Tensor& t, const std::string& what);

// A floating-point [..., 4] tensor (at least one dimension).
void CheckBoxLike(const torch::Tensor& t, const std::string& what);

// Four positive variances (PriorConfig::variances).
void CheckVariances(const std::vector<double>& variances, const std::string& what);

}  // namespace scratchdet::box
