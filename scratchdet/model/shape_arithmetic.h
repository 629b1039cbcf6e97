// Output sizes of convolutions and poolings along one axis, exactly as LibTorch computes
// them, so a model's feature-map sizes (and its priors) are known without a forward pass.
// A result of 0 means "empty": LibTorch would throw for that input.
#pragma once

#include <cstdint>

namespace scratchdet::model {

// Floor division for a possibly negative numerator (LibTorch's div_rtn).
inline int64_t FloorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

inline int64_t ConvOutputSize(int64_t n, int64_t kernel, int64_t stride = 1, int64_t padding = 0,
                              int64_t dilation = 1) {
  if (n <= 0) return 0;
  const int64_t out = FloorDiv(n + 2 * padding - dilation * (kernel - 1) - 1, stride) + 1;
  return out > 0 ? out : 0;
}

inline int64_t PoolOutputSize(int64_t n, int64_t kernel, int64_t stride, int64_t padding,
                              bool ceil_mode) {
  if (n <= 0) return 0;
  int64_t out =
      FloorDiv(n + 2 * padding - (kernel - 1) - 1 + (ceil_mode ? stride - 1 : 0), stride) + 1;
  // In ceil mode the last window must start inside the input or the left padding.
  if (ceil_mode && (out - 1) * stride >= n + padding) --out;
  return out > 0 ? out : 0;
}

}  // namespace scratchdet::model
