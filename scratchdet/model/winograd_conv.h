// The fast inference path of 3x3 convolutions on the CPU (issue 12): oneDNN's Winograd
// kernels (F(4x4, 3x3) and F(2x2, 3x3) on AVX-512), which do 2.2-2.6x fewer multiplications
// than the direct convolution LibTorch 1.13 calls. On this machine a 512 -> 512 conv at 38 x 38
// takes 8.3 ms instead of 19.5 (benchmarks/README.md, "Winograd inference").
//
// Used only where it is exact enough and cannot change training: float32 on the CPU, autograd
// off (Predict, evaluation, detect), kernel 3x3, stride 1, padding 1, dilation 1, one group, at
// least kWinogradMinChannels input channels (below that the direct kernel is faster), and a
// shape oneDNN has a Winograd kernel for. Everything else -- training, CUDA, other convs --
// takes torch's convolution. The results agree with it to about 1e-5 relative
// (tests/model/winograd_conv_test.cc); SCRATCHDET_WINOGRAD=0 in the environment, or
// SetWinogradEnabled(false), turns the path off. A build without oneDNN's headers
// (tools/gpu_check.sh, for a pip LibTorch whose oneDNN is internal) has no such path.
#pragma once

#include <torch/torch.h>

#include <optional>

namespace scratchdet::model {

constexpr int64_t kWinogradMinChannels = 32;

// The convolution of `input` by `conv` through Winograd when the conditions above hold,
// followed by a ReLU fused into the kernel when `relu`; nullopt otherwise (the caller runs
// conv->forward).
std::optional<torch::Tensor> TryWinogradConv(const torch::nn::Conv2dImpl& conv,
                                             const torch::Tensor& input, bool relu = false);

// The transformed weights are cached per module and input shape, and made again when the
// weight tensor, its storage or its version changed, or when any training forward ran through
// CountedConv since (LibTorch's SGD updates weights through .data(), unseen by the version).
// A weight changed in place through .data() outside training is not noticed.

// Process-wide switch (default: on unless SCRATCHDET_WINOGRAD=0); for comparisons.
void SetWinogradEnabled(bool enabled);
bool WinogradEnabled();

// How many convolutions took the Winograd path since the start (for tests and benchmarks).
int64_t WinogradCalls();

}  // namespace scratchdet::model
